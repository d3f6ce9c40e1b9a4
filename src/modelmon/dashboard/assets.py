"""The dashboard's scripts and styles, shipped in the package (no CDN: pages work offline).

Served at ``/ui/assets/<name>?v=<hash>``: the hash of the content makes each URL immutable, so
browsers cache them for a year and fetch them again only when a release changes them. Reports
inline the same files (:func:`asset_text`) so that one HTML file opens without a network.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources

__all__ = ["ASSETS", "asset_bytes", "asset_text", "asset_url", "media_type"]

#: Every asset the pages may name (nothing else under ``assets/`` is served).
ASSETS = ("dashboard.css", "charts.js", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@functools.cache
def asset_bytes(name: str) -> bytes:
    """The content of asset ``name`` (one of :data:`ASSETS`; KeyError otherwise)."""
    if name not in ASSETS:
        raise KeyError(name)
    return importlib.resources.files("modelmon.dashboard").joinpath("assets", name).read_bytes()


def asset_text(name: str) -> str:
    """The asset as text, safe to inline in a ``<script>`` or ``<style>`` element."""
    return asset_bytes(name).decode("utf-8").replace("</script", "<\\/script")


@functools.cache
def asset_hash(name: str) -> str:
    return hashlib.sha256(asset_bytes(name)).hexdigest()[:12]


def asset_url(name: str) -> str:
    """``/ui/assets/<name>?v=<hash of its content>``."""
    return f"/ui/assets/{name}?v={asset_hash(name)}"


def media_type(name: str) -> str:
    return next((t for ext, t in _TYPES.items() if name.endswith(ext)), "application/octet-stream")
