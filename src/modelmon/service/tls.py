"""HTTPS for the service: ``server.tls_cert`` and ``server.tls_key`` (``modelmon serve --tls-cert
FILE --tls-key FILE``) handed to uvicorn, checked before it starts.

uvicorn builds a server-side TLS context from the two files (TLS 1.2 or newer with Python's
defaults). The check loads the pair the same way, so a missing file, a key that does not belong
to the certificate or a file that is not PEM fails at start-up (and in ``serve --check``) with a
sentence naming the setting, not a traceback from inside uvicorn.
"""

from __future__ import annotations

import ssl
from typing import Any

from modelmon.config.settings import ServerSettings
from modelmon.exceptions import ConfigError

__all__ = ["check_tls", "uvicorn_tls_options"]


def check_tls(server: ServerSettings) -> None:
    """Raise :class:`~modelmon.exceptions.ConfigError` unless the certificate and key load."""
    if server.tls_cert is None or server.tls_key is None:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(server.tls_cert, server.tls_key)
    except FileNotFoundError as exc:
        raise ConfigError(f"server.tls_cert / server.tls_key: {exc.filename} does not exist",
                          loc=("server",)) from None
    except PermissionError as exc:
        raise ConfigError(f"server.tls_cert / server.tls_key: {exc.filename} cannot be read "
                          f"(permissions)", loc=("server",)) from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"server.tls_cert / server.tls_key: the certificate and key do not "
                          f"load as a PEM pair ({getattr(exc, 'reason', None) or exc})",
                          loc=("server",)) from None


def uvicorn_tls_options(server: ServerSettings) -> dict[str, Any]:
    """``uvicorn.Config`` keyword arguments for HTTPS (none without TLS)."""
    if server.tls_cert is None:
        return {}
    return {"ssl_certfile": server.tls_cert, "ssl_keyfile": server.tls_key}
