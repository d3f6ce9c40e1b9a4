"""The interactive API reference at ``/docs``: Swagger UI from assets the service serves itself.

FastAPI's default page loads Swagger UI from a CDN, so ``/docs`` was blank on a machine without
internet access. The assets come from the ``swagger-ui-py`` package (Swagger UI 5, which renders
the OpenAPI 3.1 document FastAPI writes) and are served from ``/docs/assets/``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from modelmon.exceptions import NotFoundError

__all__ = ["install_docs"]

_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def _asset_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # its folder only: no need to import it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing: pip install swagger-ui-py")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (create the app with ``docs_url=None``) and its assets."""
    folder = _asset_dir()

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        media = _ASSETS.get(name)
        if media is None:
            raise NotFoundError(f"no documentation asset {name!r}", loc=("path", "name"))
        return FileResponse(folder / name, media_type=media,
                            headers={"Cache-Control": "public, max-age=86400"})
