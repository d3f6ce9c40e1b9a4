"""``modelmon demo``: the service with three simulated models (see :mod:`modelmon.demo.runner`)."""

from modelmon.demo.runner import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
