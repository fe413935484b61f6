"""The learned risk score's quality on held-out data, as JSON (decision 0033).

    PYTHONPATH=src python bench/risk_quality.py [--seed 7] [--customers 3000]

``precision``, ``recall``, ``auc``, ``false_positive_rate`` at the model's operating point
on the simulator's held-out customers; ``external`` the same for a model trained the same
way on synthfin-aml's transactions (and under ``as_is`` the simulator's model applied
to them unchanged). bench/risk.py (latency) can merge these keys.
"""

from __future__ import annotations

import argparse
import json

from paywarden.benchmarks.risk.external import measure
from paywarden.risk_sim import pipeline
from paywarden.services.risk_model.scorer import Model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customers", type=int, default=pipeline.CUSTOMERS)
    parser.add_argument("--agents", type=int, default=4000)
    args = parser.parse_args()
    built = pipeline.build(args.seed, "bench", customers=args.customers)
    test = built.metadata["metrics"]["test"]
    out = {**test, "dataset": f"paywarden risk_sim(seed={args.seed}, customers="
                              f"{args.customers}, days=30), 30% of customers held out",
           "operating_point": built.metadata["operating_point"],
           "external": measure(args.seed, agents=args.agents,
                               simulator_model=Model(built))}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
