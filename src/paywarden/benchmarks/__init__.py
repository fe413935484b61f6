"""Benchmarks: reproducible measurements behind the numbers the docs quote.

Each module exposes ``main(argv) -> int`` so that the CLI (``paywarden bench
<name>``) and the thin scripts under ``bench/`` run the same code.
"""
