"""The server's Arrow pool: the system allocator, unless the environment chose one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "from modelmon.service.allocator import use_system_allocator; print(use_system_allocator())"


@pytest.mark.parametrize(("env", "expected"), [(None, "system"), ("jemalloc", "jemalloc")])
def test_the_server_uses_the_system_allocator_unless_told(env: str | None, expected: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env is not None:
        environ["ARROW_DEFAULT_MEMORY_POOL"] = env
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          env=environ, timeout=60, check=True)
    assert done.stdout.strip() == expected


def test_the_server_caps_mallocs_arenas() -> None:
    code = "from modelmon.service.allocator import limit_malloc_arenas; print(limit_malloc_arenas())"
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environ, timeout=60, check=True)
    assert done.stdout.strip() == "True"  # glibc (Debian): mallopt accepted the cap
