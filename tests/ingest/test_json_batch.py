"""The schema-decoding path for JSON batches gives the general validator's table and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.models import INGEST_MODELS

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest import json_batch
from modelmon.ingest.json_batch import (
    NotFastPath,
    decode_envelope,
    predictions_from_batch_json,
    predictions_from_json,
    sniff_model,
)
from modelmon.ingest.predictions import predictions_from_records

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)

FRAUD, PRICE, SPECIES = (ModelSpec.model_validate(m) for m in INGEST_MODELS)

# Values of every JSON type, valid for some fields and not for others.
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=64), st.sampled_from(["DE", "FR", "x"]),
    st.text(max_size=5), st.just([0.2, 0.8]), st.just({"a": 1}),
)
GOOD = {
    "numeric": st.one_of(st.none(), st.integers(-1000, 1000), st.floats(-1e6, 1e6)),
    "categorical": st.one_of(st.none(), st.sampled_from(["DE", "FR"]), st.integers(0, 9)),
    "boolean": st.one_of(st.none(), st.booleans()),
}


def _feature_values(spec: ModelSpec, bad: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields = {f.name: (ANY_VALUE if bad else GOOD[f.type.value].filter(
        lambda v, f=f: f.nullable or v is not None)) for f in spec.features}
    optional = [f.name for f in spec.features if not f.required] + (
        [f.name for f in spec.features] if bad else [])
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k not in optional},
        optional={**{k: fields[k] for k in optional}, **({"zzz": ANY_VALUE} if bad else {})},
    )


def _good_prediction(spec: ModelSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(required, optional) prediction fields of a valid record."""
    if spec.task.value == "regression":
        return {"prediction": st.floats(-1e6, 1e6)}, {}
    if spec.task.value == "binary_classification":
        return {"score": st.floats(0, 1)}, {"prediction": st.sampled_from([0, 1, "0", "1"])}
    probs = st.floats(0, 1).map(lambda p: [p, (1 - p) / 2, (1 - p) / 2])
    return {"probabilities": probs}, {"prediction": st.sampled_from(["setosa", "virginica"])}


def _records(spec: ModelSpec, bad: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    if bad:
        optional: dict[str, st.SearchStrategy[Any]] = {
            "prediction": ANY_VALUE, "score": ANY_VALUE, "probabilities": ANY_VALUE,
            "latency_ms": ANY_VALUE, "status": st.sampled_from(["ok", "error", "bad"]),
            "timestamp": st.sampled_from([1_700_000_000, "2026-01-02T03:04:05Z", "nope", None]),
            "segments": st.one_of(st.none(), st.fixed_dictionaries(
                {}, optional={"channel": ANY_VALUE, "country": ANY_VALUE, "other": ANY_VALUE})),
            "model": st.sampled_from([spec.name, "other"]), "unexpected": ANY_VALUE,
        }
    else:
        required, optional = _good_prediction(spec)
        optional |= {
            "latency_ms": st.floats(0, 1e4),
            "status": st.sampled_from(["ok", "error"]), "version": st.sampled_from(["v1", "v2"]),
            "timestamp": st.sampled_from([1_700_000_000, 1.7e9, "2026-01-02T03:04:05Z", None]),
            "segments": st.one_of(st.none(), st.fixed_dictionaries(
                {}, optional={s: st.one_of(st.none(), st.sampled_from(["web", "app"]))
                              for s in spec.segments})),
            "model": st.just(spec.name),
        }
    record = st.fixed_dictionaries(
        {"prediction_id": st.text(min_size=1, max_size=8), "features": _feature_values(spec, bad),
         **required},
        optional=optional,
    )
    return st.lists(record, min_size=1, max_size=12)


def _outcome(fn: Any) -> Any:
    try:
        table = fn()
    except ValidationError as exc:
        return ("error", exc.to_dict())
    return ("table", table)


def _check_same(spec: ModelSpec, records: list[dict[str, Any]]) -> None:
    body = json.dumps(records).encode()  # stdlib: writes integers beyond 64 bits too
    general = _outcome(lambda: predictions_from_records(spec, orjson.loads(body), now=NOW))
    fast = _outcome(lambda: predictions_from_json(spec, body, now=NOW))
    assert fast[0] == general[0]
    if fast[0] == "error":
        assert fast[1] == general[1]
    else:
        assert fast[1].equals(general[1]), (fast[1].to_pylist(), general[1].to_pylist())


@pytest.mark.parametrize("spec", [FRAUD, SPECIES, PRICE], ids=lambda s: s.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), bad=st.booleans())
def test_same_table_or_errors_as_the_general_validator(spec: ModelSpec, data: Any, bad: bool) -> None:
    _check_same(spec, data.draw(_records(spec, bad)))


def _fraud(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"prediction_id": "p1", "score": 0.7,
                           "features": {"amount": 1.5, "country": "DE", "online": True,
                                        "score_in": 3}}
    rec.update(over)
    return rec


@pytest.mark.parametrize("record", [
    _fraud(),
    _fraud(features={"amount": True, "country": "DE", "online": True, "score_in": 3}),
    _fraud(features={"amount": "1.5", "country": "DE", "online": True, "score_in": 3}),
    _fraud(features={"amount": 1, "country": 2.0, "online": True, "score_in": 3}),  # general accepts
    _fraud(features={"amount": 1, "country": 7, "online": 1, "score_in": 3}),
    _fraud(features={"amount": 1, "country": "DE", "online": True}),  # missing required feature
    _fraud(features={"amount": 1, "country": "DE", "online": True, "score_in": None}),
    _fraud(features={"amount": 10**30, "country": "DE", "online": True, "score_in": 3}),
    _fraud(features={"amount": 1, "country": "DE", "online": True, "score_in": 3, "zzz": 1}),
    _fraud(segments={"channel": "web", "other": 1}),
    _fraud(segments=None),
    _fraud(model="other"),
    _fraud(model=5),
    _fraud(extra=1),
    _fraud(timestamp="2026-01-02T03:04:05+01:00"),
    _fraud(timestamp=4_000_000_000),
    _fraud(score=1.5),
    _fraud(prediction=2**63),  # integers beyond 64 bits as text fields: text, never a crash
    _fraud(features={"amount": 1, "country": -(2**70), "online": True, "score_in": 3}),
    # an integer a float64 cannot hold exactly: rounded as the general path rounds it
    _fraud(features={"amount": 2**60 + 1, "country": "DE", "online": True, "score_in": -(2**62) - 1}),
    _fraud(features={"amount": 1, "country": "x" * 1025, "online": True, "score_in": 3}),
    # 1,024 characters in 2,048 bytes: not too long
    _fraud(features={"amount": 1, "country": "é" * 1024, "online": True, "score_in": 3}),
    _fraud(features={"amount": 1, "country": "é" * 1025, "online": True, "score_in": 3}),
    _fraud(prediction_id="p" * 257),
    _fraud(features={"amount": None, "country": None, "online": None, "score_in": None}),
])
def test_edge_records(record: dict[str, Any]) -> None:
    _check_same(FRAUD, [record, _fraud(prediction_id="p2")])


def test_not_a_list_and_too_many_records() -> None:
    with pytest.raises(ValidationError) as err:
        predictions_from_json(FRAUD, b'{"a": 1}', now=NOW)
    assert (err.value.code, err.value.loc) == ("invalid_type", ("records",))
    body = orjson.dumps([_fraud(prediction_id=str(i)) for i in range(5)])
    with pytest.raises(ValidationError) as err:
        predictions_from_json(FRAUD, body, now=NOW, max_records=4)
    assert (err.value.code, err.value.loc) == ("batch_too_large", ("records",))
    assert predictions_from_json(FRAUD, body, now=NOW, max_records=5).num_rows == 5


def test_envelope() -> None:
    env = decode_envelope(b'{"records": [1, 2], "model": "fraud", "version": "v2"}')
    assert env is not None and (env.model, env.version) == ("fraud", "v2")
    assert orjson.loads(bytes(env.records)) == [1, 2]
    for body in (b'{"model": "fraud"}', b'{"model": 1, "records": []}', b'[1]', b'{"records": [',
                 b'{"model": "fraud", "records": [], "extra": 1}', b''):
        assert decode_envelope(body) is None


def test_schema_is_cached_per_feature_layout() -> None:
    json_batch._SCHEMAS.clear()
    predictions_from_json(FRAUD, orjson.dumps([_fraud()]), now=NOW)
    predictions_from_json(FRAUD.model_copy(), orjson.dumps([_fraud()]), now=NOW)
    assert len(json_batch._SCHEMAS) == 1
    assert isinstance(predictions_from_json(PRICE, b'[{"features": {"area": 3}, "prediction": 1}]',
                                            now=NOW), pa.Table)
    assert len(json_batch._SCHEMAS) == 2


def _one_pass(spec: ModelSpec, body: bytes) -> Any:
    try:
        return _outcome(lambda: predictions_from_batch_json(spec, body, model=spec.name, now=NOW))
    except NotFastPath:
        return None


@pytest.mark.parametrize("spec", [FRAUD, SPECIES, PRICE], ids=lambda s: s.name)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), bad=st.booleans(), version=st.sampled_from([None, "v9"]))
def test_one_pass_gives_the_two_step_result_or_steps_aside(spec: ModelSpec, data: Any, bad: bool,
                                                           version: str | None) -> None:
    records = data.draw(_records(spec, bad))
    envelope = {"model": spec.name, "records": records, **({"version": version} if version else {})}
    body = json.dumps(envelope).encode()
    assert sniff_model(body) == spec.name
    one_pass = _one_pass(spec, body)
    two_step = _outcome(lambda: predictions_from_records(spec, orjson.loads(json.dumps(records)),
                                                         now=NOW, version=version))
    if one_pass is None:  # only unusual batches step aside; well-formed ones take the one pass
        assert bad
        return
    assert one_pass[0] == two_step[0]
    if one_pass[0] == "error":
        assert one_pass[1] == two_step[1]
    else:
        assert one_pass[1].equals(two_step[1])


@pytest.mark.parametrize("body", [
    b'{"model": "fraud", "records": [], "extra": 1}',  # unknown envelope field
    b'{"model": "fraud", "version": 3, "records": []}',
    b'{"model": "fraud", "records": [{"features": {}}]}',  # a record the schema rejects
    b'{"model": "fraud", "records": [' + orjson.dumps(_fraud(model="other")) + b"]}",
    b'{"model": "fraud", "model": "price", "records": []}',
    b'{"model": "fraud", "records": [',
])
def test_one_pass_steps_aside_for_anything_unusual(body: bytes) -> None:
    with pytest.raises(NotFastPath):
        predictions_from_batch_json(FRAUD, body, model="fraud", now=NOW)


def test_one_pass_size_limit() -> None:
    body = orjson.dumps({"model": "fraud", "records": [_fraud(prediction_id=f"p{i}")
                                                         for i in range(3)]})
    with pytest.raises(ValidationError, match="at most 2") as info:
        predictions_from_batch_json(FRAUD, body, model="fraud", now=NOW, max_records=2)
    assert info.value.code == "batch_too_large"


@pytest.mark.parametrize(("body", "model"), [
    (b'{"model": "fraud", "records": []}', "fraud"),
    (b' \n{ "model" :"fraud-2.v1","records":[]}', "fraud-2.v1"),
    (b'{"records": [], "model": "fraud"}', None),  # not first: the envelope is decoded instead
    (b'{"model": "fr\\u0061ud", "records": []}', None),  # escapes: decoded instead
    (b'{"model": 3, "records": []}', None),
    (b'[{"model": "fraud"}]', None),
    ('{"model": "b\u00e4r", "records": []}'.encode(), "b\u00e4r"),
])
def test_sniff_model(body: bytes, model: str | None) -> None:
    assert sniff_model(body) == model
