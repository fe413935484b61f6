#!/usr/bin/env python3
"""Sanctions screening: the false-match rate on ordinary names, and the time per name.

``python bench/sanctions.py [--names N] [--listed N] [--seed S]`` from the repository
root. Screens N ordinary names (first × last name, drawn with the seed from the lists in
bench/data/, typed by hand: common European and American names) against the shipped
fictional sample list plus a generated list of ``--listed`` persons (Cyrillic, Arabic,
Korean, Chinese, Persian, African and Latin American name parts from
bench/data/listed_style_names.txt, in their own scripts). None of the ordinary names is
on either list, so every hit is a false match. As a check that the threshold still
finds what it should, the same run screens each listed person's name reordered and in
Latin letters (``recall_listed_variants``). A harder case: ``--mixed`` other ordinary
first+last combinations (none of them screened) are added to the list, and the screened
names are run again: a hit there is a different ordinary person with a similar name
(``false_match_rate_mixed``). The last line of stdout is JSON:

    {"names_screened", "hits", "false_match_rate", "threshold", "p50_ms", "p99_ms",
     "cpu_ms_per_name", "listed_entities", "recall_listed_variants", "mixed_listed",
     "false_match_rate_mixed", "seed"}

Wall times are noisy on a shared machine; ``cpu_ms_per_name`` (process time) is steadier.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

try:
    import paywarden  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from anyascii import anyascii

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.sanctions import ListedEntity, read_entities
from paywarden.domain.risk.names import HIT_SCORE_MIN, NameKind
from paywarden.services.risk.sanctions import SAMPLE_LIST, Sanctions

DATA = Path(__file__).resolve().parent / "data"


def words(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


def generated_list(count: int, rng: random.Random) -> list[ListedEntity]:
    parts = [w.split("|") for w in words("listed_style_names.txt")]
    given = [g for g, _ in parts]
    family = [f for _, f in parts]
    made: list[ListedEntity] = []
    seen: set[str] = set()
    while len(made) < count and len(seen) < len(given) * len(family):
        name = f"{rng.choice(given)} {rng.choice(family)}"
        if name in seen:
            continue
        seen.add(name)
        made.append(ListedEntity(f"gen-{len(made):05d}", "Person", (name,), (), ()))
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=3_000)
    parser.add_argument("--listed", type=int, default=2_000)
    parser.add_argument("--mixed", type=int, default=500)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    listed = read_entities(SAMPLE_LIST) + generated_list(args.listed, rng)
    screening = Sanctions(None, clock=FakeClock())  # type: ignore[arg-type]  # in memory
    screening.use(listed)
    first, last = words("ordinary_first_names.txt"), words("ordinary_last_names.txt")
    pool = sorted({f"{f} {s}" for f in first for s in last})
    names = rng.sample(pool, min(args.names, len(pool)))
    others = [n for n in pool if n not in set(names)]
    mixed = [ListedEntity(f"mix-{i:05d}", "Person", (n,), (), ())
             for i, n in enumerate(rng.sample(others, min(args.mixed, len(others))))]
    wall_ms: list[float] = []
    hits = 0
    cpu_start = time.process_time()
    for name in names:
        start = time.perf_counter()
        found = screening.screen_name(name, NameKind.PERSON)
        wall_ms.append((time.perf_counter() - start) * 1_000)
        hits += bool(found)
    cpu_ms = (time.process_time() - cpu_start) * 1_000 / len(names)
    screening.use(listed + mixed)
    mixed_hits = sum(bool(screening.screen_name(n, NameKind.PERSON)) for n in names)
    screening.use(listed)
    variants = [" ".join(reversed(anyascii(e.names[0]).split())) for e in listed
                if e.schema == "Person"]
    found_variants = sum(bool(screening.screen_name(v, NameKind.PERSON)) for v in variants)
    print(json.dumps({
        "names_screened": len(names), "hits": hits,
        "false_match_rate": round(hits / len(names), 5), "threshold": HIT_SCORE_MIN,
        "p50_ms": round(statistics.median(wall_ms), 3),
        "p99_ms": round(statistics.quantiles(wall_ms, n=100)[98], 3),
        "cpu_ms_per_name": round(cpu_ms, 3), "listed_entities": len(listed),
        "recall_listed_variants": round(found_variants / len(variants), 4),
        "mixed_listed": len(mixed),
        "false_match_rate_mixed": round(mixed_hits / len(names), 5), "seed": args.seed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
