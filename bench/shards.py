#!/usr/bin/env python3
"""Sharding model: ``python bench/shards.py`` from the repository root.

A thin wrapper around ``paywarden.benchmarks.shards``; see that module for what is
measured. The last line of stdout is JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import paywarden  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from paywarden.benchmarks.shards import main

if __name__ == "__main__":
    sys.exit(main())
