"""Multivariate drift: which features the PCA reconstruction error names, and the domain
classifier."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from modelmon.drift import DomainClassifierDrift, PCAReconstructionDrift
from modelmon.exceptions import UndefinedMetricWarning


def _frame(rng: np.random.Generator, n: int, rho: float) -> dict[str, np.ndarray]:
    x = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    return {"a": x[:, 0], "b": x[:, 1], "c": rng.normal(size=n), "d": rng.normal(size=n)}


def test_pca_contributions_name_the_features_whose_relation_broke() -> None:
    rng = np.random.default_rng(0)
    model = PCAReconstructionDrift.fit(_frame(rng, 20_000, 0.9))
    broke = model.compare(_frame(rng, 5000, -0.9))
    assert broke.drifted
    names = [f for f, _ in broke.contributions]
    assert set(names[:2]) == {"a", "b"}
    assert sum(s for _, s in broke.contributions) == pytest.approx(1.0)
    assert sum(s for f, s in broke.contributions if f in "ab") > 0.9
    again = PCAReconstructionDrift.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.compare(_frame(rng, 100, -0.9)).contributions[0][0] in {"a", "b"}


def test_domain_classifier_finds_what_marginals_miss_and_round_trips() -> None:
    rng = np.random.default_rng(1)
    reference = {**_frame(rng, 4000, 0.9), "k": rng.choice(["x", "y"], 4000)}
    test = DomainClassifierDrift.fit(reference, max_reference_rows=2000)
    same = {**_frame(rng, 1000, 0.9), "k": rng.choice(["x", "y"], 1000)}
    flipped = {**_frame(rng, 1000, -0.9), "k": rng.choice(["x", "y"], 1000)}
    assert abs(test.compare(same).statistic - 0.5) < 0.06
    assert test.compare(flipped).statistic > 0.9
    again = DomainClassifierDrift.from_dict(json.loads(json.dumps(test.to_dict())))
    assert again.compare(same).statistic == test.compare(same).statistic
    assert again.encoder.categorical_indices == [4]
    with pytest.warns(UndefinedMetricWarning, match="at least 3 current rows"):
        assert math.isnan(test.compare({k: v[:2] for k, v in same.items()}).statistic)
