"""Detection through the whole service path (store, backfill, verdicts) on data nobody here
made — NannyML's bundled public data sets, chunked as NannyML chunks them — and on planted
changes; false findings on stable runs of 1,000 windows against the nominal rate.

Figures beside NannyML's own per-chunk alerts: ``python -m benchmarks.bench_judgement``.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
from benchmarks.detection import run_public, run_simulation, summarize
from benchmarks.public_data import load

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["file", "history"])
def test_work_from_home_set_first_full_window_flagged_every_drifting_feature_named(
        mode: str) -> None:
    ds = load("synthetic_binary_classification")
    change = ds.known_changes[0]
    run = run_public("synthetic_binary_classification", mode=mode)
    s = summarize(run, change=change.first_chunk, drifting=change.columns)
    # The step lands exactly at the start of analysis chunk 5: that chunk is degraded (NannyML
    # raises its first drift alert at chunk 3, a false one, and misses one feature until 6).
    assert s["first_flagged"] == s["first_degraded"] == change.first_chunk, s
    assert s["degraded_after"] == 5
    assert s["features_missed"] == [] and s["other_features_named_after"] == [], s
    assert s["false_degraded_before"] == 0 and s["false_drift_before"] == 0, s
    assert s["false_degraded_in_reference"] == 0 and s["false_drift_in_reference"] == 0, s
    if mode == "history":
        assert s["reference_windows"] == 10


def test_census_set_the_year_change_and_the_quality_episode() -> None:
    ds = load("us_census_ma_employment")
    year, episode = ds.known_changes[0], ds.known_changes[1]
    run = run_public("us_census_ma_employment", mode="file")
    analysis = run.windows[run.reference_windows:]
    # RELP moves with the 2017 survey year: named from the first chunk wholly in 2017 on, never
    # before it.
    relp = [w.index for w in analysis if "RELP" in w.drifted]
    assert relp[0] == year.first_chunk and len(relp) >= 0.9 * (len(analysis) - year.first_chunk)
    # The ROC AUC drop of the episode (chunks 27-28) is degraded at once; no chunk before the
    # episode is.
    degraded = [w.index for w in analysis if w.status == "degraded"]
    assert {27, 28} <= set(degraded) and min(degraded) >= episode.first_chunk - 1, degraded
    assert set(degraded) <= {26, 27, 28}, degraded  # 26 holds the episode's first 1,000 rows


@pytest.mark.parametrize(("kind", "first_degraded"), [("step", 30), ("recurring", 30),
                                                      ("gradual", None)])
def test_planted_changes(kind: str, first_degraded: int | None) -> None:
    run = run_simulation(kind, windows=50, rows=2000, change=30)
    s = summarize(run, change=30, drifting=["x1", "c1"])
    assert s["false_degraded_in_reference"] == 0 and s["false_drift_in_reference"] == 0
    assert s["false_degraded_before"] == 0 and s["false_drift_before"] == 0, s
    assert s["features_missed"] == [] and s["other_features_named_after"] == [], s
    assert s["first_flagged"] == 30, s  # even the ramp's first tenth is drift
    if first_degraded is not None:
        assert s["first_degraded"] == first_degraded
    else:  # the ramp: degraded within a few windows as the change grows
        assert 31 <= s["first_degraded"] <= 36, s
    if kind == "recurring":
        analysis = run.windows[run.reference_windows:]
        assert [w.status == "degraded" for w in analysis[40:45]] == [True] * 5


def test_stable_runs_of_a_thousand_windows_stay_at_the_nominal_rate() -> None:
    """Two stable runs (the first two seeds), 1,000 windows of 200 labelled rows each, judged by
    the standard preset: 1 % of stable windows may be called degraded, 1 % may name a drifted
    feature. The baseline is a dozen windows, so one run's rate depends on how typical its
    baseline happened to be; averaged over runs it is the nominal rate."""
    degraded = drift = total = 0
    for seed in (1, 2):
        run = run_simulation("stable", windows=1000, rows=200, seed=seed)
        windows = run.windows[run.reference_windows:]
        statuses = Counter(w.status for w in windows)
        degraded += statuses.get("degraded", 0)
        drift += sum(bool(w.drifted) for w in windows)
        total += len(windows)
        assert not any(w.status == "degraded" for w in run.windows[:run.reference_windows])
    allowed = 0.01 + 3 * math.sqrt(0.01 * 0.99 / total)
    assert degraded / total <= allowed, (degraded, total)
    assert drift / total <= allowed, (drift, total)
