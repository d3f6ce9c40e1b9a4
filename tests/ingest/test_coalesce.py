"""Coalescing single records (modelmon.ingest.coalesce): each request gets exactly its own answer."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
from tests.ingest.test_json_batch import FRAUD, NOW, _fraud

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest.coalesce import RecordCoalescer
from modelmon.ingest.json_batch import predictions_from_json
from modelmon.ingest.predictions import predictions_from_records

RECORDS = [_fraud(prediction_id=f"r{i}", score=i / 40) for i in range(30)]
RECORDS[7] = _fraud(prediction_id="bad", score=3.0, features={"amount": "x"})


class Offload:
    """Validates JSON in-process like a worker would, counting groups and their sizes."""

    def __init__(self, fail: bool = False) -> None:
        self.sizes: list[int] = []
        self.fail = fail

    async def __call__(self, spec: ModelSpec, records_json: bytes, now: datetime) -> pa.Table:
        await asyncio.sleep(0.005)  # out for a while: the next requests gather meanwhile
        table = predictions_from_json(spec, records_json, now=now)
        self.sizes.append(table.num_rows)
        if self.fail:
            raise RuntimeError("worker gone")
        return table


async def _all(coalescer: RecordCoalescer, offload: Offload | None) -> list[Any]:
    async def one(i: int, record: dict[str, Any]) -> Any:
        await asyncio.sleep(0.0005 * (i % 10))  # arrivals spread over a few milliseconds
        return await coalescer.validate(predictions_from_records, FRAUD, record, NOW,
                                        offload=offload)

    return await asyncio.gather(*[one(i, r) for i, r in enumerate(RECORDS)],
                                return_exceptions=True)


def _check(results: list[Any]) -> None:
    for record, result in zip(RECORDS, results, strict=True):
        if record["prediction_id"] == "bad":
            with pytest.raises(ValidationError) as alone:
                predictions_from_records(FRAUD, [record], now=NOW, prefix=(), single=True)
            assert isinstance(result, ValidationError)
            assert result.to_dict() == alone.value.to_dict()
            assert result.loc[0] in ("score", "features")  # its own body, no record index
        else:
            assert result.equals(predictions_from_records(FRAUD, [record], now=NOW))


@pytest.mark.parametrize("offload", [None, Offload()], ids=["in-process", "offloaded"])
def test_each_request_gets_its_own_answer(offload: Offload | None) -> None:
    coalescer = RecordCoalescer()
    _check(asyncio.run(_all(coalescer, offload)))
    assert coalescer.records == len(RECORDS)
    assert coalescer.batches < len(RECORDS)


def test_groups_gather_while_one_is_out() -> None:
    offload = Offload()
    coalescer = RecordCoalescer()
    good = [r for r in RECORDS if r["prediction_id"] != "bad"]

    async def run() -> None:
        async def one(i: int, record: dict[str, Any]) -> pa.Table:
            await asyncio.sleep(0.001 * i)  # one arrival per millisecond
            return await coalescer.validate(predictions_from_records, FRAUD, record, NOW,
                                            offload=offload)

        await asyncio.gather(*[one(i, r) for i, r in enumerate(good)])

    asyncio.run(run())
    # A group is out for 5 ms: about five arrivals gather behind it, not one group per record.
    assert sum(offload.sizes) == len(good)
    assert len(offload.sizes) < len(good) / 2


def test_a_failing_offload_falls_back_to_validating_here() -> None:
    _check(asyncio.run(_all(RecordCoalescer(), Offload(fail=True))))


def test_a_validator_bug_fails_each_request_instead_of_leaving_it_hanging() -> None:
    def broken(*args: Any, **kwargs: Any) -> pa.Table:
        raise KeyError("bug")

    async def run() -> list[Any]:
        c = RecordCoalescer()
        return await asyncio.wait_for(asyncio.gather(
            *[c.validate(broken, FRAUD, r, NOW) for r in RECORDS[:3]], return_exceptions=True), 10)

    assert all(isinstance(r, KeyError) for r in asyncio.run(run()))
