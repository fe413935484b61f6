"""The risk simulator and the learned score (decision 0033): small seeded runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lightgbm")

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paywarden.risk_sim import PATTERNS, featurize, pipeline, release_key, simulate
from paywarden.services.risk_model import artifact
from paywarden.services.risk_model.features import FEATURES
from paywarden.services.risk_model.scorer import Model

CUSTOMERS = 600


@pytest.fixture(scope="module")
def built() -> artifact.Artifact:
    return pipeline.build(3, "1", customers=CUSTOMERS)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def saved(tmp_path: Path, built: artifact.Artifact, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "model.json"
    artifact.save(built, path, release_key.signer(key))
    return path


def _trusted(key: Ed25519PrivateKey) -> artifact.PublicKeyFor:
    return release_key.trusting(key.public_key()).get


def test_the_simulator_gives_the_same_movements_for_the_same_seed() -> None:
    a, b = simulate(11, customers=200), simulate(11, customers=200)
    assert a.txns == b.txns
    assert simulate(12, customers=200).txns != a.txns


def test_every_fraud_pattern_appears_with_its_label() -> None:
    txns = simulate(5, customers=300).txns
    for pattern in PATTERNS:
        found = [t for t in txns if t.pattern == pattern and t.fraud]
        assert found, pattern
    assert all(t.fraud == (t.pattern != "normal") for t in txns if t.op != "dispute")


def test_features_are_one_row_per_movement_in_the_engines_order() -> None:
    sim = simulate(5, customers=200)
    x, y, kept = featurize(sim.txns, sim.opened_s)
    assert x.shape == (len(kept), len(FEATURES)) and len(y) == len(kept)
    assert np.isfinite(x).all()


def test_the_model_reaches_its_floor_on_held_out_customers(built: artifact.Artifact) -> None:
    test = built.metadata["metrics"]["test"]
    assert test["auc"] >= 0.95
    assert test["recall"] >= 0.7 and test["precision"] >= 0.4


def test_a_signed_model_loads_and_scores_with_reasons_that_are_real_features(
        saved: Path, key: Ed25519PrivateKey) -> None:
    model = Model(artifact.load(saved, _trusted(key), version="1"))
    sim = simulate(9, customers=200)
    x, y, _ = featurize(sim.txns, sim.opened_s)
    row = x[int(np.argmax(y))]
    features = dict(zip(FEATURES, row.tolist(), strict=True))
    scored = model.score(features, explain=True)
    assert 0.0 <= scored.score <= 1.0 and scored.model_version == "1"
    assert scored.reasons and all(r.feature in FEATURES for r in scored.reasons)
    assert all(r.contribution > 0 for r in scored.reasons)
    assert model.score(features).score == pytest.approx(scored.score)
    del features["new_payee"]
    with pytest.raises(KeyError, match="new_payee"):
        model.score(features)


def test_a_model_file_with_one_changed_byte_is_refused(saved: Path,
                                                         key: Ed25519PrivateKey) -> None:
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(artifact.ModelRefused, match="changed"):
        artifact.load(saved, _trusted(key))


def test_a_model_with_another_feature_list_is_refused_even_when_signed(
        tmp_path: Path, built: artifact.Artifact, key: Ed25519PrivateKey) -> None:
    meta = {**built.metadata, "features": list(reversed(FEATURES))}
    path = tmp_path / "m.json"
    artifact.save(artifact.Artifact(meta, built.booster_text), path, release_key.signer(key))
    with pytest.raises(artifact.ModelRefused, match="feature list"):
        artifact.load(path, _trusted(key))


def test_a_model_signed_by_an_untrusted_key_or_of_another_version_is_refused(
        saved: Path, key: Ed25519PrivateKey) -> None:
    with pytest.raises(artifact.ModelRefused, match="not signed"):
        artifact.load(saved, _trusted(Ed25519PrivateKey.generate()))
    with pytest.raises(artifact.ModelRefused, match="version"):
        artifact.load(saved, _trusted(key), version="2")


def test_a_signature_moved_to_a_relabelled_version_is_refused(
        saved: Path, key: Ed25519PrivateKey) -> None:
    body = json.loads(saved.read_bytes())
    body["metadata"]["version"] = "9"
    saved.write_bytes(json.dumps(body).encode())
    with pytest.raises(artifact.ModelRefused):
        artifact.load(saved, _trusted(key))


def test_analyst_labels_become_the_next_version_for_review(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("tx_id,label\n1,fraud\n2,false_positive\n")
    assert pipeline.read_feedback(labels) == {1: 1, 2: 0}
    nxt = pipeline.build(3, "2", customers=300, feedback={1: 1, 2: 0}, parent="1")
    assert nxt.metadata["status"] == "for_review" and nxt.metadata["parent"] == "1"
    assert nxt.metadata["feedback_labels"] == 2
    labels.write_text("tx_id,label\n1,maybe\n")
    with pytest.raises(ValueError):
        pipeline.read_feedback(labels)


def test_the_cli_trains_verifies_retrains_and_refuses_a_tampered_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from paywarden.cli import app

    runner = CliRunner()
    model, key = tmp_path / "m.json", tmp_path / "k.pem"
    trained = runner.invoke(app, ["risk", "model", "train", "--seed", "4", "--customers", "300",
                                  "--out", str(model), "--key", str(key)])
    assert trained.exit_code == 0, trained.output
    pub = str(key) + ".pub"
    verified = runner.invoke(app, ["risk", "model", "verify", str(model), "--public-key", pub])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["version"] == "1"
    labels = tmp_path / "labels.csv"
    labels.write_text("tx_id,label\n5,false_positive\n")
    nxt = tmp_path / "m2.json"
    retrained = runner.invoke(app, ["risk", "model", "retrain", str(model), "--labels",
                                    str(labels), "--public-key", pub, "--out", str(nxt),
                                    "--key", str(key)])
    assert retrained.exit_code == 0, retrained.output
    meta = json.loads(runner.invoke(app, ["risk", "model", "verify", str(nxt), "--public-key",
                                          pub]).stdout)
    assert (meta["version"], meta["parent"], meta["status"]) == ("2", "1", "for_review")
    model.write_bytes(model.read_bytes().replace(b'"version":"1"', b'"version":"7"'))
    refused = runner.invoke(app, ["risk", "model", "verify", str(model), "--public-key", pub])
    assert refused.exit_code == 2


def export_rows(tmp_path: Path) -> Path:
    """A labels export as ``paywarden risk labels export`` writes it: recorded features,
    empty where the decision recorded none."""
    from paywarden.services.risk.labels import EXPORT_COLUMNS
    from paywarden.services.risk_model.recorded import model_row

    recorded = {"amount_minor": 2_000_00, "kind": "external", "hour_utc": 3,
                "account_age_s": 10 * 86_400, "new_device": True, "new_address": True,
                "velocity_customer_1h": 4, "velocity_device_1h": 4, "median_90d_minor": 20_00,
                "payee_known": True, "payee_age_s": 3_600, "payee_cooling": False}
    lines = [",".join(EXPORT_COLUMNS)]
    for i, label in enumerate(["fraud", "false_positive", "fraud"]):
        row = model_row(recorded)
        lines.append(",".join([f"rsk_{i:024d}", f"usr_{i}", "bank.external", "1", label,
                               *("" if v is None else str(v) for v in row)]))
    path = tmp_path / "decisions.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recorded_features_map_onto_the_model_and_unrecorded_ones_stay_missing(
        tmp_path: Path) -> None:
    decided = pipeline.read_decisions(export_rows(tmp_path))
    assert decided.x.shape == (3, len(FEATURES)) and list(decided.y) == [1, 0, 1]
    names = list(FEATURES)
    assert decided.x[0, names.index("op_transfer")] == 1.0
    assert decided.x[0, names.index("amount_vs_median")] == 100.0
    assert decided.x[0, names.index("new_payee")] == 1.0
    assert np.isnan(decided.x[0, names.index("velocity_card_1h")])
    bad = tmp_path / "bad.csv"
    bad.write_text("tx_id,label\n5,fraud\n")
    with pytest.raises(ValueError):
        pipeline.read_decisions(bad)


def test_the_retrain_takes_real_decisions_labels_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from paywarden.cli import app

    runner = CliRunner()
    model, key = tmp_path / "m.json", tmp_path / "k.pem"
    trained = runner.invoke(app, ["risk", "model", "train", "--seed", "4", "--customers", "300",
                                  "--out", str(model), "--key", str(key)])
    assert trained.exit_code == 0, trained.output
    pub = str(key) + ".pub"
    nxt = tmp_path / "m2.json"
    retrained = runner.invoke(app, ["risk", "model", "retrain", str(model), "--decisions",
                                    str(export_rows(tmp_path)), "--public-key", pub,
                                    "--out", str(nxt), "--key", str(key)])
    assert retrained.exit_code == 0, retrained.output
    meta = json.loads(runner.invoke(app, ["risk", "model", "verify", str(nxt), "--public-key",
                                          pub]).stdout)
    assert (meta["version"], meta["decision_labels"], meta["status"]) == ("2", 3, "for_review")


def test_the_engine_scores_live_features_with_a_configured_signed_model(
        saved: Path, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    """load_scorer verifies the file under the configured key; the scorer maps the engine's
    features with the retrain's own mapping, and a stolen-looking transfer scores higher
    than an everyday one."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
    )

    from paywarden.domain.risk import Features
    from paywarden.services.risk.providers import load_scorer, model_features
    from paywarden.services.risk_model.recorded import LIVE_ABSENT, model_row

    pem = tmp_path / "model.pub"
    pem.write_bytes(key.public_key().public_bytes(Encoding.PEM,
                                                  PublicFormat.SubjectPublicKeyInfo))
    scorer = load_scorer(saved, pem)
    assert scorer.version == "1"
    usual = {"kind": "internal", "theirs": True, "amount_minor": 40_00,
             "amount_ratio_90d": 1.0, "history_n_90d": 30, "account_age_s": 400 * 86_400,
             "hour_utc": 14, "new_device": False, "new_address": False, "payee_known": True,
             "payee_age_s": 200 * 86_400, "payee_cooling": False, "velocity_customer_1h": 1,
             "velocity_customer_24h": 2, "device_customers": 1, "payee_customers": 3}
    taken = {**usual, "amount_minor": 4_000_00, "amount_ratio_90d": 100.0,
             "new_device": True, "new_address": True, "payee_known": False, "payee_age_s": 0,
             "hour_utc": 3, "velocity_customer_1h": 4, "device_customers": 6}
    low, high = scorer.score(Features(usual)), scorer.score(Features(taken))
    assert low.value is not None and high.value is not None and high.value > low.value
    live = model_features(Features(taken))
    assert [live[name] for name in FEATURES] == [LIVE_ABSENT.get(name, 0.0) if v is None else v
                                                 for name, v in zip(FEATURES, model_row(taken))]
    assert live["inflow_age_s"] > 86_400  # not seen: no inflow, not one this instant
    card = model_features(Features({**usual, "kind": "pay", "payee_present": False,
                                    "payee_known": False, "payee_age_s": 0}))
    assert (card["new_payee"], card["payee_age_h"]) == (0.0, 720.0)  # no payee, not a new one
    other = Ed25519PrivateKey.generate().public_key()
    pem.write_bytes(other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(artifact.ModelRefused):
        load_scorer(saved, pem)
