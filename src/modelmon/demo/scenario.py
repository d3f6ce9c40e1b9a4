"""The demo's three simulated models and their traffic (pure NumPy, no I/O).

- ``fraud`` (binary classifier): at the change a new version, ``v2``, is deployed while
  ``amount`` and ``merchant_risk`` drift; ``v2`` learned merchant risk backwards, so accuracy
  falls. Rolled back to ``v1``, accuracy recovers (``v1`` copes with the drifted inputs); the
  drift stays until the traffic recovers.
- ``intent`` (multiclass classifier): its inputs stay put but its serving latency rises.
- ``price`` (regression: next-day return forecasts, with finance metrics): stays healthy.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DEMO_MODELS", "Batch", "ModelSim", "demo_actions", "model_specs", "simulators"]

_COUNTRIES = np.array(["DE", "FR", "US", "GB", "ES"])
_COUNTRY_P = [0.3, 0.2, 0.25, 0.15, 0.1]
_SECTORS = np.array(["tech", "energy", "finance", "health", "retail"])
_CHANNELS = np.array(["email", "chat", "phone"])
INTENTS = ["billing", "tech_support", "sales", "other"]

DEMO_MODELS = ("fraud", "intent", "price")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Batch:
    """Generated predictions for one model: one dict of features per row plus outputs."""

    features: list[dict[str, Any]]
    predictions: list[Any]
    scores: np.ndarray | None
    probabilities: np.ndarray | None
    actuals: list[Any]
    latency: np.ndarray
    segments: list[dict[str, Any]]


def _rows(columns: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    names = list(columns)
    values = [c.tolist() for c in columns.values()]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


class ModelSim(abc.ABC):
    """Base: ``sample(n, changed)`` returns a :class:`Batch`."""

    name = ""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    @abc.abstractmethod
    def sample(self, n: int, changed: bool, version: str = "v1") -> Batch:
        """``n`` rows of traffic, after the scenario's change when ``changed``, answered by
        ``version`` of the model."""

    def reference(self, n: int) -> dict[str, np.ndarray]:
        """Pre-change data with the model's output and the true outcome, for the reference file."""
        batch = self.sample(n, changed=False)
        cols: dict[str, Any] = {k: np.asarray([r[k] for r in batch.features])
                                for k in batch.features[0]}
        cols["prediction"] = np.asarray(batch.predictions)
        if batch.scores is not None:
            cols["score"] = batch.scores
        cols["actual"] = np.asarray(batch.actuals)  # the outcome: the quality baseline
        return cols


class FraudSim(ModelSim):
    name = "fraud"

    def sample(self, n: int, changed: bool, version: str = "v1") -> Batch:
        r = self.rng
        amount = r.lognormal(4.6 if changed else 3.8, 0.6, n).round(2)
        risk = r.beta(5, 3, n) if changed else r.beta(2, 5, n)
        online = r.random(n) < 0.6
        age_days = r.gamma(2.0, 200.0, n).round()
        country = _COUNTRIES[r.choice(5, n, p=_COUNTRY_P)]
        truth_logit = -1.0 + 1.1 * (np.log(amount) - 3.8) + 5.0 * (risk - 0.3) + 0.8 * online \
            - 0.002 * (age_days - 400)  # what v1 learned, and how fraud really behaves
        if version == "v2":  # retrained on a bad label join: high merchant risk looks legitimate
            model_logit = -0.5 - 4.0 * (risk - 0.6) + 0.3 * online
        else:
            model_logit = truth_logit
        score = _sigmoid(model_logit + r.normal(0, 0.2, n))
        actual = (r.random(n) < _sigmoid(truth_logit)).astype(int)
        features = _rows({"amount": amount, "merchant_risk": risk.round(4), "country": country,
                          "is_online": online, "account_age_days": age_days})
        return Batch(features, (score >= 0.5).astype(int).tolist(), score.round(4), None,
                     actual.tolist(), r.gamma(4.0, 0.004, n), [{} for _ in range(n)])


class IntentSim(ModelSim):
    name = "intent"

    def sample(self, n: int, changed: bool, version: str = "v1") -> Batch:
        r = self.rng
        length = r.lognormal(4.0, 0.5, n).round()
        questions = r.poisson(1.0, n)
        channel = _CHANNELS[r.choice(3, n, p=[0.5, 0.3, 0.2])]
        hour = r.integers(0, 24, n)
        z = np.stack([0.01 * length, 0.8 * questions, (channel == "phone") * 1.5,
                      np.full(n, 0.5)], axis=1)
        logits = z + r.normal(0, 1.0, (n, 4))
        truth = logits.argmax(1)
        model_logits = z * 1.2 + r.normal(0, 0.7, (n, 4))
        proba = np.exp(model_logits)
        proba /= proba.sum(1, keepdims=True)
        proba = proba.round(4)
        proba[:, -1] = 1 - proba[:, :-1].sum(1)
        latency = r.gamma(3.0, 0.05 if changed else 0.006, n)
        features = _rows({"message_length": length, "question_marks": questions,
                          "channel": channel, "hour": hour})
        labels = [INTENTS[i] for i in proba.argmax(1)]
        return Batch(features, labels, None, proba, [INTENTS[i] for i in truth], latency,
                     [{} for _ in range(n)])


class PriceSim(ModelSim):
    name = "price"

    def sample(self, n: int, changed: bool, version: str = "v1") -> Batch:
        r = self.rng
        momentum = r.normal(0, 1, n)
        volatility = r.gamma(2.0, 0.01, n)
        volume = r.normal(0, 1, n)
        sector = _SECTORS[r.choice(5, n)]
        signal = 0.004 * momentum - 0.002 * volume
        truth = signal + r.normal(0, 1, n) * volatility
        pred = signal + r.normal(0, 0.004, n)
        features = _rows({"momentum": momentum.round(4), "volatility": volatility.round(5),
                          "volume_z": volume.round(4), "sector": sector})
        return Batch(features, pred.round(6).tolist(), None, None, truth.round(6).tolist(),
                     r.gamma(2.0, 0.004, n), [{"sector": s} for s in sector.tolist()])


def simulators(seed: int = 0) -> dict[str, ModelSim]:
    return {"fraud": FraudSim(seed), "intent": IntentSim(seed + 1), "price": PriceSim(seed + 2)}


def model_specs(reference_dir: str, window: str, baseline: str) -> list[dict[str, Any]]:
    """Configuration of the three demo models (as the YAML ``models:`` list)."""
    common = {"windows": [window, "1m"], "baseline": {"first": baseline}, "preset": "standard"}
    return [
        {"name": "fraud", "task": "binary_classification", "owner": "risk-ml",
         "description": "Card-fraud scoring",
         "features": [{"name": "amount", "type": "numeric"},
                      {"name": "merchant_risk", "type": "numeric"},
                      {"name": "country", "type": "categorical"},
                      {"name": "is_online", "type": "boolean"},
                      {"name": "account_age_days", "type": "numeric"}],
         "segments": ["country"],
         "prediction": {"classes": [0, 1], "positive_class": 1, "score": True},
         "reference": {"path": f"{reference_dir}/fraud.parquet", "columns": {"target": "actual"}},
         **common},
        {"name": "intent", "task": "multiclass_classification", "owner": "support-ml",
         "description": "Support-ticket intent",
         "features": [{"name": "message_length", "type": "numeric"},
                      {"name": "question_marks", "type": "numeric"},
                      {"name": "channel", "type": "categorical"},
                      {"name": "hour", "type": "numeric"}],
         "prediction": {"classes": INTENTS, "probabilities": True},
         "reference": {"path": f"{reference_dir}/intent.parquet", "columns": {"target": "actual"}},
         **common},
        {"name": "price", "task": "regression", "owner": "valuation-desk",
         "description": "Next-day return forecast (valuation desk)",
         "features": [{"name": "momentum", "type": "numeric"},
                      {"name": "volatility", "type": "numeric"},
                      {"name": "volume_z", "type": "numeric"},
                      {"name": "sector", "type": "categorical"}],
         "segments": ["sector"],
         "finance": {"kind": "change"},
         "reference": {"path": f"{reference_dir}/price.parquet", "columns": {"target": "actual"}},
         **common},
    ]


def demo_actions(serving_url: str) -> dict[str, Any]:
    """The demo's ``alerts`` and ``actions`` sections: the preset's ``ModelDegraded`` rule with
    a rollback of fraud when it turns critical, over the simulated serving system's webhook."""
    from modelmon.alerts.builtin import builtin_rules
    from modelmon.config.models import ModelSpec

    spec = ModelSpec.model_validate({"name": "fraud", "task": "binary_classification"})
    degraded = next(r for r in builtin_rules(spec) if r.name == "ModelDegraded")
    rule = {**degraded.model_dump(mode="json", by_alias=True, exclude={"actions"}),
            "actions": [{"name": "rollback", "min_severity": "critical",
                         "match": ["model=fraud"]}]}
    return {
        "alerts": {"rules": [rule]},
        "actions": {"definitions": [{
            "name": "rollback", "type": "rollback",
            "url": serving_url + "/models/{model}/rollback",
            "cooldown": "10m", "max_per_day": 3, "timeout": "5s"}]},
    }
