"""The modelmon HTTP service: ``create_app(settings)`` (see :mod:`modelmon.service.app`)."""

from modelmon.service.app import create_app

__all__ = ["create_app"]
