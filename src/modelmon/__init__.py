"""modelmon — monitor machine-learning models in production.

The numerical core is usable on its own::

    from modelmon import metrics, drift, detectors, degradation

The service, SDK and CLI build on it.
"""

from __future__ import annotations

from modelmon.exceptions import (
    ConfigError,
    ModelmonError,
    NotFoundError,
    ParameterError,
    UndefinedMetricWarning,
    ValidationError,
)

__version__ = "0.1.0"

from modelmon.sdk import Monitor

__all__ = [
    "ConfigError",
    "ModelmonError",
    "Monitor",
    "NotFoundError",
    "ParameterError",
    "UndefinedMetricWarning",
    "ValidationError",
    "__version__",
]
