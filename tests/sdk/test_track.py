"""monitor.track(): decorator (sync and async) and context manager: latency, errors, ids."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from modelmon.sdk import DeliveryFailure, Monitor
from tests.sdk.servers import ThreadServer, fraud_features

pytestmark = pytest.mark.integration

MakeMonitor = Callable[..., Monitor]


def test_decorator_logs_latency_and_prediction(server: ThreadServer, monitors: MakeMonitor) -> None:
    m = monitors(server.url)
    seen_inside: list[str | None] = []

    @m.track(features=lambda x, **kw: x, prediction=lambda y: y[0], score=lambda y: y[1],
             segments=lambda x, **kw: {"region": kw.get("region", "eu")})
    def predict(x: dict[str, Any], *, region: str = "eu") -> tuple[str, float]:
        seen_inside.append(m.last_prediction_id)
        time.sleep(0.03)
        return "1", 0.83

    assert predict(fraud_features(4), region="us") == ("1", 0.83)
    pid = m.last_prediction_id
    assert pid is not None
    assert seen_inside == [pid]
    assert predict.__name__ == "predict"
    assert m.flush(10)
    row = server.prediction("fraud", pid)
    assert row is not None
    assert row["latency_seconds"] >= 0.03
    assert (row["label"], row["score"], row["status"], row["segment.region"]) == (
        "1", 0.83, "ok", "us")
    assert row["feature.amount"] == 4.0


def test_decorator_logs_errors_and_reraises(server: ThreadServer, monitors: MakeMonitor) -> None:
    m = monitors(server.url)

    @m.track
    def predict(x: dict[str, Any]) -> str:
        time.sleep(0.01)
        raise ValueError("model file is corrupt")

    with pytest.raises(ValueError, match="model file is corrupt"):
        predict(fraud_features(1))
    pid = m.last_prediction_id
    assert pid is not None
    assert m.flush(10)
    row = server.prediction("fraud", pid)
    assert row is not None
    assert (row["status"], row["label"]) == ("error", None)
    assert row["error"] == "ValueError: model file is corrupt"
    assert row["latency_seconds"] >= 0.01


def test_async_decorator(server: ThreadServer, monitors: MakeMonitor) -> None:
    m = monitors(server.url)

    @m.track(features=lambda x: x, prediction_id=lambda x: f"async-{x['amount']:.0f}")
    async def predict(x: dict[str, Any]) -> str:
        await asyncio.sleep(0.02)
        return "0"

    @m.track(features=lambda x: x)
    async def broken(x: dict[str, Any]) -> str:
        raise KeyError("missing column")

    async def main() -> tuple[str, str | None]:
        out = await predict(fraud_features(77))
        return out, m.last_prediction_id

    assert asyncio.run(main()) == ("0", "async-77")
    with pytest.raises(KeyError):
        asyncio.run(broken(fraud_features(1)))
    assert m.flush(10)
    row = server.prediction("fraud", "async-77")
    assert row is not None
    assert row["latency_seconds"] >= 0.02
    assert (m.stats.sent, m.stats.rejected) == (2, 0)


def test_context_manager(server: ThreadServer, monitors: MakeMonitor) -> None:
    m = monitors(server.url, version="cm")
    with m.track() as call:
        call.features = fraud_features(5)
        time.sleep(0.02)
        call.prediction = "1"
        call.score = 0.66
    ok_id = call.prediction_id
    assert call.latency is not None
    assert call.latency >= 0.02
    failed_ids: list[str] = []

    def fail() -> None:
        with m.track() as handle:
            failed_ids.append(handle.prediction_id)
            handle.features = fraud_features(6)
            raise RuntimeError("upstream timeout")

    with pytest.raises(RuntimeError, match="timeout"):
        fail()
    with m.track() as skipped:
        skipped.discard()
    assert m.flush(10)
    row = server.prediction("fraud", ok_id)
    assert row is not None
    assert (row["label"], row["score"], row["version"], row["status"]) == ("1", 0.66, "cm", "ok")
    bad = server.prediction("fraud", failed_ids[0])
    assert bad is not None
    assert (bad["status"], bad["error"]) == ("error", "RuntimeError: upstream timeout")
    assert server.prediction("fraud", skipped.prediction_id) is None
    assert m.stats.sent == 2


def test_a_tracker_is_not_reentrant() -> None:
    m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
    try:
        t = m.track()
        with t, pytest.raises(RuntimeError, match="not re-entrant"), t:
            pass
    finally:
        m.close(timeout=0)


def test_extractor_errors_never_break_the_call() -> None:
    failures: list[DeliveryFailure] = []
    m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60, on_error=failures.append)
    try:
        @m.track(features=lambda x: x["nope"])
        def predict(x: dict[str, Any]) -> int:
            return 1

        @m.track(score=lambda y: y["score"])
        def predict2(x: dict[str, Any]) -> int:
            return 2

        @m.track
        def no_mapping(x: int) -> int:
            return x

        assert predict({"a": 1}) == 1
        assert predict2({"a": 1}) == 2
        assert no_mapping(3) == 3
        assert m.stats.rejected == 3
        assert {f.code for f in failures} == {"invalid_value"}
        assert "KeyError" in failures[0].message
        assert "TypeError" in failures[2].message
    finally:
        m.close(timeout=0)


def test_keyboard_interrupt_is_not_logged() -> None:
    m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
    try:
        @m.track
        def predict(x: dict[str, Any]) -> int:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            predict({"a": 1})
        assert m.stats.queued == 0
    finally:
        m.close(timeout=0)
