"""Exceptions and warnings raised by modelmon.

Every error carries a stable machine-readable ``code`` shared by the library and the HTTP API
(an API error body is ``{"code": ..., "message": ..., "loc": [...]}``). The codes are listed in
``docs/errors.md``; a test checks that the page and :data:`ERROR_CODES` agree.

Hierarchy::

    ModelmonError                      base of everything modelmon raises
    ├── ValidationError (ValueError)   bad input: wrong type, shape, value or parameter
    │   ├── ParameterError             a function/class parameter is out of its domain
    │   └── SchemaError                data does not match a model's feature schema
    ├── NotFoundError (LookupError)    unknown model, version, report, alert ...
    ├── ConflictError                  the request contradicts stored state
    ├── ConfigError (ValueError)       a configuration file or setting is wrong
    └── StoreError (RuntimeError)      the storage backend failed (not the client's fault)
        └── OverloadedError            the ingest queue is full; retry later

Warnings::

    ModelmonWarning (UserWarning)
    ├── UndefinedMetricWarning         a statistic is ill-defined for the input; NaN returned
    └── DataQualityWarning             input was usable but suspicious (e.g. empty PSI bin)

Errors subclass built-ins so generic handlers (``except ValueError``) keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ERROR_CODES",
    "ConfigError",
    "ConflictError",
    "DataQualityWarning",
    "ModelmonError",
    "ModelmonWarning",
    "NotFoundError",
    "OverloadedError",
    "ParameterError",
    "SchemaError",
    "StoreError",
    "UndefinedMetricWarning",
    "ValidationError",
]

#: Every stable error code, with a one-line meaning. ``docs/errors.md`` lists the same codes.
ERROR_CODES: dict[str, str] = {
    # generic input validation (library and API)
    "invalid_parameter": "A function or class parameter is outside its allowed domain.",
    "invalid_value": "A value has the right type but is not allowed (NaN, inf, negative ...).",
    "invalid_type": "A value has the wrong type.",
    "invalid_shape": "An array has the wrong number of dimensions or columns.",
    "length_mismatch": "Arrays that must have equal lengths do not.",
    "empty_input": "An input that must not be empty is empty.",
    # schema validation (API, SDK, store)
    "unknown_feature": "A feature that the model's schema does not define.",
    "missing_feature": "A feature required by the model's schema is absent.",
    "invalid_feature_type": "A feature value does not match the feature's declared type.",
    "invalid_prediction": "The prediction fields do not match the model's task.",
    "unknown_segment": "A segment that the model's schema does not define.",
    "unknown_window": "A window size that the model does not evaluate.",
    "unknown_field": "A field that this kind of record does not have.",
    "missing_field": "A required field (e.g. model, prediction_id, features) is absent.",
    "invalid_timestamp": "A timestamp is not ISO 8601 / epoch seconds.",
    "timestamp_out_of_range": "An event time is outside the accepted range (ingest.max_event_age "
                              "back, ingest.max_future_skew ahead) or a time query parameter is "
                              "beyond what the store holds.",
    "malformed_body": "The request body is not valid JSON / NDJSON / Arrow / Parquet.",
    "batch_too_large": "A batch holds more records than the configured limit.",
    "payload_too_large": "A request body exceeds the configured size limit.",
    "request_timeout": "The request body did not arrive within the configured time.",
    "unsupported_media_type": "The request's content type is not accepted by this endpoint.",
    # lookup and state
    "model_not_found": "No model with that name is registered.",
    "version_not_found": "No version with that name is registered for the model.",
    "not_found": "The requested resource does not exist.",
    "method_not_allowed": "The resource exists but does not accept this HTTP method.",
    "conflict": "The request contradicts stored state (e.g. a duplicate with other content).",
    # configuration and infrastructure
    "invalid_config": "A configuration file or setting is wrong.",
    "unauthorized": "Missing or wrong API key.",
    "forbidden": "The API key's role (or its models) does not allow this request.",
    "rate_limited": "Too many failed authentications from this address or for this key; retry "
                    "after the time in the Retry-After header.",
    "store_unavailable": "The storage backend failed; the request was not applied.",
    "overloaded": "The ingest queue is full; retry after the time in the Retry-After header.",
    "internal_error": "An unexpected server error; the request was not applied.",
}


class ModelmonError(Exception):
    """Base class of every error modelmon raises.

    Parameters
    ----------
    message : str
        Human-readable explanation.
    code : str, optional
        Stable machine-readable code, one of :data:`ERROR_CODES`. Defaults to the class's code.
    loc : sequence of str or int, optional
        Path of the offending field, e.g. ``("features", "age")``.
    """

    default_code = "internal_error"

    def __init__(
        self, message: str, *, code: str | None = None, loc: Sequence[str | int] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if self.code not in ERROR_CODES:
            raise KeyError(f"unknown error code {self.code!r}; add it to ERROR_CODES")
        self.loc = tuple(loc)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON error body ``{"code", "message", "loc"}`` (plus ``errors`` when one
        request had several problems: each a ``{"code", "message", "loc"}`` of its own)."""
        body: dict[str, Any] = {"code": self.code, "message": self.message, "loc": list(self.loc)}
        if self.errors:
            body["errors"] = [e.to_dict() for e in self.errors]
        return body

    #: Further problems found in the same input (validation reports up to a few dozen at once).
    errors: tuple[ModelmonError, ...] = ()


class ValidationError(ModelmonError, ValueError):
    """Input has the wrong type, shape or value."""

    default_code = "invalid_value"


class ParameterError(ValidationError):
    """A parameter of a function or class is outside its domain."""

    default_code = "invalid_parameter"


class SchemaError(ValidationError):
    """Data does not match a model's declared schema."""

    default_code = "invalid_feature_type"


class NotFoundError(ModelmonError, LookupError):
    """A named thing (model, version, report ...) does not exist."""

    default_code = "not_found"


class ConflictError(ModelmonError):
    """The request contradicts stored state."""

    default_code = "conflict"


class ConfigError(ModelmonError, ValueError):
    """A configuration file or setting is wrong."""

    default_code = "invalid_config"


class StoreError(ModelmonError, RuntimeError):
    """The storage backend failed; nothing was applied."""

    default_code = "store_unavailable"


class OverloadedError(StoreError):
    """The ingest queue is full: nothing was applied; retry after ``retry_after`` seconds."""

    default_code = "overloaded"
    retry_after = 1


class ModelmonWarning(UserWarning):
    """Base class of modelmon's warnings."""


class UndefinedMetricWarning(ModelmonWarning):
    """A statistic is ill-defined for the given input and NaN is returned."""


class DataQualityWarning(ModelmonWarning):
    """Input was usable but suspicious, e.g. an empty histogram bin that needed smoothing."""
