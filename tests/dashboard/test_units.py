"""The dashboard's small parts: session cookies, keys and roles, role views, drift scores,
distributions and sparklines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelmon.config.settings import ServerSettings, load_settings
from modelmon.dashboard.data.overview import availability, business_names, sparkline
from modelmon.dashboard.sessions import SessionSigner
from modelmon.dashboard.views import COMPONENTS, VIEWS, shows_for, view_of
from modelmon.drift import summarize_categorical, summarize_numeric
from modelmon.exceptions import ConfigError
from modelmon.report.distributions import distribution, distribution_of_values, drift_score
from modelmon.service.keyring import KeyRing


def test_a_session_survives_its_life_and_nothing_else() -> None:
    signer = SessionSigner(b"s" * 32, hours=2)
    value = signer.issue("ann.o'neil ü", "admin", now=100)
    session = signer.read(value, now=101)
    assert session is not None and session.name == "ann.o'neil ü" and session.can_write
    assert signer.read(value, now=100 + 2 * 3600) is None  # expired
    assert SessionSigner(b"t" * 32, hours=2).read(value, now=101) is None  # another secret
    for forged in ("", "a.b.c", value.replace(".admin.", ".read."), value + "x"):
        assert signer.read(forged, now=101) is None
    read = signer.read(signer.issue("v", "read", now=0), now=1)
    assert read is not None and not read.can_write
    assert signer.read(signer.issue("v", "read", now=0), now=1).csrf != read.csrf  # type: ignore[union-attr]


def test_keys_with_roles_beside_the_single_key() -> None:
    settings = load_settings(env={"MODELMON_API_KEY": "old"}, overrides={"server": {
        "api_keys": [{"key": "r", "role": "read", "name": "viewer"}, {"key": "a"}]}})
    server = settings.server
    assert server.auth and [k.role for k in server.all_keys()] == ["admin", "read", "admin"]
    ring = KeyRing(server)
    assert ring.authenticate("old").role == "admin"  # type: ignore[union-attr]
    assert ring.authenticate("r").name == "viewer"  # type: ignore[union-attr]
    assert ring.authenticate("a").name == "admin"  # type: ignore[union-attr]
    assert ring.authenticate("a").key_id == "admin"  # type: ignore[union-attr]
    twice = KeyRing(load_settings(env={}, overrides={"server": {
        "api_keys": [{"key": "a1"}, {"key": "a2"}]}}).server)
    assert [p.key_id for p in twice.config_keys()] == ["admin", "admin-1"]  # ids stay unique
    assert ring.authenticate("") is None and ring.authenticate("x") is None
    assert ring.by_id("viewer") == ring.authenticate("r") and ring.by_id("nobody") is None
    assert not ServerSettings().auth
    with pytest.raises(ConfigError, match="must not be empty"):
        load_settings(env={}, overrides={"server": {"api_keys": [{"key": " "}]}})
    with pytest.raises(ConfigError, match="role"):
        load_settings(env={}, overrides={"server": {"api_keys": [{"key": "k", "role": "root"}]}})
    assert "admin-key" not in repr(load_settings(env={}, overrides={"server": {
        "api_keys": [{"key": "admin-key"}]}}).server)


def test_views_choose_among_one_set_of_components() -> None:
    assert view_of("science") == "science" and view_of("../etc") == "all"
    assert all(v <= COMPONENTS for v in VIEWS.values())
    ops = shows_for("operations")
    assert ops("latency") and ops("alerts") and not ops("drift")
    with pytest.raises(KeyError):
        ops("no_such_component")


def test_drift_scores_put_the_threshold_at_one() -> None:
    assert drift_score("distance", 0.1, None, 0.1) == 1.0
    assert drift_score("p_value", 2.0, 0.05, 0.05) == 1.0
    assert drift_score("p_value", 2.0, 0.0, 0.05) > 100  # p underflows to 0: large, finite
    assert drift_score("distance", None, None, 0.1) is None
    assert drift_score("distance", 0.2, None, 0.0) is None
    assert drift_score(None, 3.0, 0.5, 0.05) == pytest.approx(math.log(0.5) / math.log(0.05))


def test_distributions_share_bins_and_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    ref = summarize_numeric(rng.normal(0, 1, 5000))
    cur = rng.normal(3, 1, 5000)
    spec = distribution_of_values(ref, cur)
    a, b = spec["series"][0]["values"], spec["series"][1]["values"]
    assert len(a) == len(b) == len(spec["categories"])
    assert sum(a) == pytest.approx(1.0) and sum(b) == pytest.approx(1.0)
    # the raw values and their summary give the same chart
    assert distribution(ref, summarize_numeric(cur)) == spec
    constant = distribution_of_values(summarize_numeric(np.ones(10)), np.ones(10))
    assert constant["series"][0]["values"] == [1.0]
    cats = summarize_categorical([f"c{i % 30}" for i in range(300)])
    many = distribution_of_values(cats, [f"c{i % 30}" for i in range(150)] + ["new"] * 10)
    assert len(many["categories"]) == 21 and many["categories"][-1] == "other"
    assert sum(many["series"][1]["values"]) == pytest.approx(1.0)


def test_sparklines_and_availability() -> None:
    assert sparkline([]) == "" and sparkline([None, float("nan")]) == ""
    flat = sparkline([0.5, 0.5, 0.5], width=10, height=4)
    assert flat.count(",") == 3
    assert availability(np.array([0.0]), np.array([0.5])) is None
    assert availability(np.array([100.0, np.nan]), np.array([0.02, 0.5])) == 0.98


def test_business_metrics_are_neither_quality_nor_operational() -> None:
    from modelmon.config import ModelSpec

    spec = ModelSpec.model_validate({"name": "m", "task": "binary_classification"})
    names = business_names(spec, ["accuracy", "latency_p95_seconds", "error_rate",
                                  "conversion_rate", "realised_revenue", "drift_share"])
    assert names == ["conversion_rate", "realised_revenue"]
