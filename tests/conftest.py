"""Shared pytest configuration."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Property tests: enough examples to find real disagreements, bounded so `make test` stays fast.
settings.register_profile(
    "default",
    max_examples=int(os.environ.get("MODELMON_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("default")
