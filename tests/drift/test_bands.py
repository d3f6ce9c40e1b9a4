"""Drift bands: thresholds from the reference's own noise. Stable windows are flagged at the
nominal rate (and far less often than with NannyML's mean + 3 sd over reference chunks), real
shifts are found, storage round-trips, edge cases are defined."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from modelmon.drift import DriftBands, Reference, sigma_for
from modelmon.drift.bands import MARGIN
from modelmon.exceptions import ParameterError


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i in range(6):
        x = rng.lognormal(0, 0.6, n) if i % 2 else rng.normal(0, 1, n)
        out[f"x{i}"] = x + (shift if i == 0 else 0.0)
    out["c0"] = rng.choice(["a", "b", "c"], n)
    out["c1"] = rng.choice(["u", "v"], n, p=[0.7, 0.3])
    return out


@pytest.fixture(scope="module")
def fitted() -> tuple[Reference, DriftBands]:
    rng = np.random.default_rng(4)
    chunks = [_frame(rng, 1000) for _ in range(12)]
    data = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    ref = Reference.fit(data)
    return ref, DriftBands.fit(ref, chunks=chunks, seed=1)


def test_sigma_for_is_a_bonferroni_normal_quantile() -> None:
    assert sigma_for(0.01, 8) == pytest.approx(stats.norm.ppf(1 - 0.01 / 8))
    with pytest.raises(ParameterError):
        sigma_for(0.0, 3)


def test_stable_windows_are_flagged_at_the_nominal_rate() -> None:
    """The promise holds over references: each reference is itself a sample, so one reference
    may sit a little closer to or farther from the truth for a feature than another; averaged
    over references, a stable window names any feature with probability ``alpha``."""
    alpha, windows, flagged = 0.05, 0, 0
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        chunks = [_frame(rng, 1000) for _ in range(12)]
        ref = Reference.fit({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]})
        bands = DriftBands.fit(ref, chunks=chunks, seed=seed)
        sigma = sigma_for(alpha, len(bands))
        for _ in range(60):
            result = bands.apply(ref.compare(_frame(rng, 1000), tests=bands.tests), sigma=sigma)
            flagged += any(r.drifted for r in result)
            windows += 1
    assert flagged / windows <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / windows)


def test_a_shift_of_a_third_of_a_standard_deviation_is_found(
        fitted: tuple[Reference, DriftBands]) -> None:
    ref, bands = fitted
    rng = np.random.default_rng(10)
    result = bands.apply(ref.compare(_frame(rng, 1000, shift=0.3), tests=bands.tests),
                         sigma=sigma_for(0.01, len(bands)))
    assert result.drifted_features == ["x0"]
    assert bands["x0"].sigmas(result["x0"].statistic, 1000) > 5
    assert result["x0"].threshold == pytest.approx(bands["x0"].upper(1000, sigma_for(0.01, 8) + MARGIN))


def test_windows_smaller_than_the_chunks_get_wider_thresholds(
        fitted: tuple[Reference, DriftBands]) -> None:
    _, bands = fitted
    band = bands["x1"]
    assert band.n_chunk == 1000 and band.n_reference == 12_000
    assert band.upper(100, 3) > band.upper(1000, 3) == band.upper(50_000, 3)
    assert band.upper(100, 3) / band.upper(1000, 3) == pytest.approx(
        math.sqrt((1 / 100 + 1 / 12_000) / (1 / 1000 + 1 / 12_000)))


def test_chunks_that_vary_more_than_sampling_widen_the_band() -> None:
    rng = np.random.default_rng(2)
    # a daily cycle: each chunk's mean moves by up to half a standard deviation
    chunks = [{"x": rng.normal(0.5 * math.sin(i), 1, 1000)} for i in range(12)]
    ref = Reference.fit({"x": np.concatenate([c["x"] for c in chunks])})
    seasonal = DriftBands.fit(ref, chunks=chunks)
    plain = DriftBands.fit(ref)
    assert seasonal["x"].windows_mean is not None and plain["x"].windows_mean is None
    assert seasonal["x"].upper(1000, 3) > 2 * plain["x"].upper(1000, 3)


def test_round_trip_and_edge_cases() -> None:
    rng = np.random.default_rng(3)
    ref = Reference.fit({"const": np.ones(500), "x": rng.normal(size=500),
                         "one": np.array(["a"] * 500)})
    bands = DriftBands.fit(ref, n_boot=20)
    again = DriftBands.from_dict(bands.to_dict())
    assert again.tests == bands.tests and again["x"] == bands["x"]
    # a feature that never varied: any change is drift, no change is not
    assert math.isinf(again["const"].tail_rate) and math.isinf(again["one"].tail_rate)
    same = bands.apply(ref.compare({"const": np.ones(50), "x": rng.normal(size=50),
                                    "one": np.array(["a"] * 50)}, tests=bands.tests), sigma=3)
    assert not same["one"].drifted
    moved = bands.apply(ref.compare({"const": np.ones(50), "x": rng.normal(size=50),
                                     "one": np.array(["a"] * 49 + ["b"])}, tests=bands.tests),
                        sigma=3)
    assert moved["one"].drifted and bands["one"].sigmas(moved["one"].statistic, 50) == math.inf
    # other tests keep their own verdict; undefined statistics are never drift
    ks = ref.compare({"const": np.ones(50), "x": rng.normal(3, 1, 50), "one": np.array(["a"] * 50)},
                     tests={"x": "ks"})
    assert bands.apply(ks, sigma=3)["x"] == ks["x"]
    assert math.isnan(bands["x"].sigmas(math.nan, 10))
    with pytest.raises(ParameterError, match="judged against a band"):
        DriftBands.fit(ref, tests={"x": "ks"})
