"""Run the modelmon service in this process: ``python _serve.py '{"db", "port", "models"}'``.

Used by the SDK tests that kill the server with SIGKILL.
"""

from __future__ import annotations

import json
import sys

import uvicorn

from modelmon.config.settings import load_settings
from modelmon.service.app import create_app


def main() -> None:
    cfg = json.loads(sys.argv[1])
    settings = load_settings(env={}, overrides={"store": {"path": cfg["db"]},
                                                "models": cfg["models"],
                                                "server": {"port": cfg["port"]},
                                                "scheduler": {"enabled": False}})
    uvicorn.run(create_app(settings), host="127.0.0.1", port=cfg["port"], log_level="warning",
                lifespan="on", log_config=None, access_log=False)


if __name__ == "__main__":
    main()
