"""CUSUM: against a plain Python transcription of the tabular CUSUM, and its textbook run lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelmon.detectors import CUSUM


class _ReferenceCUSUM:
    """The tabular CUSUM (Montgomery, ch. 9.1) with a warm-up estimate, in plain Python."""

    def __init__(self, min_instances=30, slack=0.5, threshold=5.0, mode="both", target=None, sigma=None):
        self.args = (min_instances, slack, threshold, mode, target, sigma)
        self.drift_detected = False
        self._reset()

    def _reset(self):
        self.values: list[float] = []
        self.reference = None
        self.sigma = None
        self.up = self.down = 0.0

    def update(self, x):
        min_instances, slack, threshold, mode, target, sigma = self.args
        if self.drift_detected:
            self._reset()
        self.values.append(x)
        warm_up = 1 if target is not None and sigma is not None else min_instances
        if len(self.values) < warm_up:
            self.drift_detected = False
            return
        if self.reference is None:
            n = len(self.values)
            mean = sum(self.values) / n
            std = math.sqrt(sum((v - mean) ** 2 for v in self.values) / (n - 1)) if n > 1 else 0.0
            self.reference = mean if target is None else target
            self.sigma = std if sigma is None else sigma
        deviation = x - self.reference
        self.up = max(0.0, self.up + deviation - slack * self.sigma)
        self.down = max(0.0, self.down - deviation - slack * self.sigma)
        limit = threshold * self.sigma
        up, down = self.up > limit, self.down > limit
        self.drift_detected = {"up": up, "down": down, "both": up or down}[mode]


SETTINGS = [
    {},
    {"min_instances": 10, "slack": 1.0, "threshold": 3.0},
    {"mode": "up"},
    {"mode": "down", "threshold": 4.0},
    {"target": 0.0, "sigma": 1.0},
    {"target": 0.5, "min_instances": 50},
    {"sigma": 2.0, "min_instances": 5},
]


@pytest.mark.parametrize("params", SETTINGS, ids=str)
@pytest.mark.parametrize("seed", range(4))
def test_same_positions_as_reference(params, seed):
    rng = np.random.default_rng(seed)
    values = np.concatenate(
        [rng.normal(0, 1, 800), rng.normal(1.0, 1, 400), rng.normal(-0.5, 2, 400), rng.normal(0, 1, 400)]
    )
    reference = _ReferenceCUSUM(**params)
    expected = []
    for i, x in enumerate(values.tolist()):
        reference.update(x)
        if reference.drift_detected:
            expected.append(i)
    result = CUSUM(**params).update_many(values)
    # The reference computes the warm-up standard deviation two-pass, ours streams it
    # (Welford): positions can only differ if a sum lands within rounding of the limit.
    assert result.drifts.tolist() == expected
    assert expected


def _run_lengths(shift: float, n: int, seed: int) -> np.ndarray:
    # With a known reference the chart restarts from zero after each alarm, so the gaps
    # between alarms are independent run lengths.
    values = np.random.default_rng(seed).normal(shift, 1.0, n)
    drifts = CUSUM(target=0.0, sigma=1.0).update_many(values).drifts
    return np.diff(np.r_[-1, drifts])


def test_in_control_average_run_length_is_465():
    lengths = _run_lengths(0.0, 600_000, seed=0)
    assert lengths.size > 1000
    assert 430 < lengths.mean() < 500  # Montgomery, Table 9.3: ARL0 = 465 for k=0.5, h=5


def test_one_sigma_shift_is_detected_after_about_ten_values():
    lengths = _run_lengths(1.0, 100_000, seed=1)
    assert 9.8 < lengths.mean() < 11.2  # Montgomery, Table 9.3: ARL1 = 10.4


def test_constant_warm_up_makes_any_change_a_drift():
    values = np.r_[np.full(30, 2.0), 2.0, 2.0, 2.000001]
    assert CUSUM().update_many(values).drifts.tolist() == [32]
