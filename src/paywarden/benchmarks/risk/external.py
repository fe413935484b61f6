"""Grading on transactions from a generator nobody here wrote: ``synthfin-aml`` (MIT,
PyPI). It makes a transaction graph of retail, merchant, broker and escrow agents with
labelled laundering chains (structuring, layering, round trips) and amounts drawn from
the same distribution as honest high-volume traffic, on purpose.

Its package ``__init__`` imports torch (for a dataset loader that downloads from a hub),
so the generator module is loaded from the installed package by path, without torch.

Its transactions carry only source, target, time, amount: the features this platform's
engine would have for them (velocity, new payee, payee fan-in, in-and-out speed, chain
depth, amount vs the sender's median) are computed by the same featurizer; those it has
no data for (devices, addresses, cards, merchants' rates) stay at their "nothing seen"
values. A model is trained the same way (LightGBM, held out by sender) on it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ...risk_sim.events import TRANSFER, Txn
from ...risk_sim.featurize import featurize
from ...services.risk_model.metrics import at
from ...services.risk_model.scorer import Model
from ...services.risk_model.training import customer_split, train

EPOCH_DAYS = 3650.0  # synthfin gives no account ages: all accounts ten years old


def _generator_module() -> ModuleType:
    spec = importlib.util.find_spec("synthfin_aml_pkg")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("synthfin-aml is not installed (pip install .[risk])")
    path = Path(next(iter(spec.submodule_search_locations))) / "generator.py"
    loaded = importlib.util.spec_from_file_location("synthfin_aml_generator", path)
    if loaded is None or loaded.loader is None:
        raise ModuleNotFoundError("synthfin-aml's generator module is missing")
    module = importlib.util.module_from_spec(loaded)
    sys.modules[loaded.name] = module
    loaded.loader.exec_module(module)
    return module


def transactions(seed: int, agents: int, days: int) -> list[Txn]:
    gen: Any = _generator_module().FraudGraphGenerator(seed=seed)
    gen.generate_transactions(agents=agents, days=days, fraud_ratio=0.02)
    _, df = gen.to_dataframes()
    start = df["timestamp"].min()
    seconds = (df["timestamp"] - start).dt.total_seconds().to_numpy()
    rows = zip(seconds, df["source_id"].to_numpy(), df["target_id"].to_numpy(),
               df["amount"].to_numpy(), df["is_fraud"].to_numpy(), strict=True)
    return [Txn(float(ts), TRANSFER, int(src), max(1, round(float(amt) * 100)),
                device=f"d{int(src)}", address=f"a{int(src)}", payee=f"c{int(dst)}",
                fraud=bool(fraud), pattern="synthfin" if fraud else "normal", tx_id=i)
            for i, (ts, src, dst, amt, fraud) in enumerate(rows)]


def measure(seed: int, agents: int = 4000, days: int = 30,
            simulator_model: Model | None = None) -> dict[str, Any]:
    """Figures for a model trained the same way on synthfin's data, and (``as_is``) for
    the simulator's own model applied unchanged to the same held-out senders."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # the generator prints progress
        txns = transactions(seed, agents, days)
    opened = {t.customer: -EPOCH_DAYS * 86_400.0 for t in txns}
    x, y, kept = featurize(txns, opened)
    groups = np.asarray([t.customer for t in kept])
    trained = train(x, y, groups, seed)
    as_is: dict[str, Any] = {}
    if simulator_model is not None:
        _, test = customer_split(groups, seed, 0.3)
        as_is = {"as_is": at(y[test], simulator_model.score_rows(x[test]),
                             simulator_model.threshold).as_json()}
    return {"dataset": f"synthfin-aml 9.2 FraudGraphGenerator(seed={seed}, agents={agents}, "
                       f"days={days}), held out by sender",
            **trained.test.as_json(), **as_is}
