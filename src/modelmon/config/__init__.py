"""Configuration: deployment settings (YAML + environment) and model specifications."""

from modelmon.config.durations import format_duration, parse_duration
from modelmon.config.models import (
    BaselineSpec,
    BusinessSpec,
    DriftSpec,
    Feature,
    FeatureType,
    FinanceSpec,
    ModelSpec,
    PredictionSpec,
    Preset,
    ReferenceSpec,
    Task,
)
from modelmon.config.settings import (
    IngestSettings,
    RegistrySettings,
    SchedulerSettings,
    ServerSettings,
    Settings,
    StoreSettings,
    load_settings,
    parse_size,
)

__all__ = [
    "BaselineSpec",
    "BusinessSpec",
    "DriftSpec",
    "Feature",
    "FeatureType",
    "FinanceSpec",
    "IngestSettings",
    "ModelSpec",
    "PredictionSpec",
    "Preset",
    "ReferenceSpec",
    "RegistrySettings",
    "SchedulerSettings",
    "ServerSettings",
    "Settings",
    "StoreSettings",
    "Task",
    "format_duration",
    "load_settings",
    "parse_duration",
    "parse_size",
]
