"""One virtual environment per peer library, created on demand under ``benchmarks/.venv-<peer>/``.

The peers' pins conflict with each other and with modelmon's own environment (Evidently 0.7 does
not import with pandas 3, Alibi Detect 0.13 needs NumPy 1), so each gets its own interpreter. An
environment is rebuilt only when its pins (or the Python version) change: the pinned requirement
list is written to a stamp file inside the environment once its packages install *and* import.
The SciPy baseline needs nothing extra and runs in the interpreter that runs the harness.

Run ``python -m benchmarks.peers.envs [peer ...]`` to build (or check) environments up front.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: ``benchmarks/`` (the environments and the data cache live beside the benchmark modules).
BENCH_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PeerEnv:
    """What a peer needs: pinned requirements, the module that must import, the runner script."""

    name: str
    requirements: tuple[str, ...]
    module: str
    runner: str


# pyarrow only reads the exchanged Parquet files. 20.0.0 is the newest release whose wheels work
# with NumPy 1.x as well as 2.x (Alibi Detect forces NumPy < 2); pinning the same release in every
# environment keeps the reading side identical across peers.
PEERS: dict[str, PeerEnv] = {
    "evidently": PeerEnv(
        "evidently",
        ("evidently==0.7.23", "pandas==2.3.3", "pyarrow==20.0.0"),
        "evidently",
        "run_evidently.py",
    ),
    "nannyml": PeerEnv(
        "nannyml",
        # NannyML imports statsmodels without declaring it.
        ("nannyml==0.13.1", "statsmodels", "pyarrow==20.0.0"),
        "nannyml",
        "run_nannyml.py",
    ),
    "alibi-detect": PeerEnv(
        "alibi-detect",
        ("alibi-detect==0.13.0", "numpy<2", "pyarrow==20.0.0"),
        "alibi_detect",
        "run_alibi_detect.py",
    ),
    # The hand-built baseline: SciPy per column, in the harness's own interpreter.
    "scipy": PeerEnv("scipy", (), "scipy", "run_scipy.py"),
}

STAMP_NAME = ".modelmon-peer-stamp.json"


def log(message: str) -> None:
    """Progress goes to stderr so that stdout keeps only the printed table."""
    print(f"[peers] {message}", file=sys.stderr, flush=True)


def env_dir(peer: str, root: Path = BENCH_DIR) -> Path:
    """Where the virtual environment of ``peer`` lives."""
    return root / f".venv-{peer}"


def base_python() -> str:
    """The machine's Python used to create environments: ``python3.11``, else ``python3``."""
    for name in ("python3.11", "python3"):
        found = shutil.which(name)
        if found:
            return found
    return sys.executable


def stamp_content(spec: PeerEnv, python_version: str) -> dict[str, object]:
    """What the stamp records; any difference from the stamp on disk forces a rebuild."""
    return {"peer": spec.name, "python": python_version, "requirements": list(spec.requirements)}


def is_current(venv: Path, expected: dict[str, object]) -> bool:
    """True when ``venv`` has an interpreter and a stamp equal to ``expected``."""
    stamp = venv / STAMP_NAME
    if not (venv / "bin" / "python").exists() or not stamp.is_file():
        return False
    try:
        return bool(json.loads(stamp.read_text()) == expected)
    except (OSError, ValueError):
        return False


def _python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    # Two harness runs building the same environment at once would corrupt it.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: Sequence[str]) -> None:
    # pip's own progress lines go to stderr as well, so a long install is visibly alive.
    subprocess.run(list(cmd), check=True, stdout=sys.stderr, stderr=sys.stderr)


def peer_version(python: str | Path, module: str) -> str:
    """Import ``module`` with ``python`` and return its ``__version__`` (raises if it fails)."""
    code = f"import {module} as m; print(getattr(m, '__version__', 'unknown'))"
    out = subprocess.run(
        [str(python), "-W", "ignore", "-c", code], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def ensure_env(peer: str, *, root: Path = BENCH_DIR, python: str | None = None) -> Path:
    """Return the interpreter that runs ``peer``'s runner, creating its environment if needed.

    Idempotent: an environment whose stamp matches the pins is reused as is; a missing, broken or
    outdated one is deleted and rebuilt (this takes minutes and needs PyPI).
    """
    if peer not in PEERS:
        raise ValueError(f"Unknown peer {peer!r}; choose from {sorted(PEERS)}.")
    spec = PEERS[peer]
    if not spec.requirements:
        return Path(sys.executable)
    venv = env_dir(peer, root)
    interpreter = python or base_python()
    expected = stamp_content(spec, _python_version(interpreter))
    with _lock(root / ".data" / "locks" / f"venv-{peer}.lock"):
        if is_current(venv, expected):
            return venv / "bin" / "python"
        if venv.exists():
            log(f"{venv.name}: pins changed or environment incomplete, rebuilding")
            shutil.rmtree(venv)
        started = time.perf_counter()
        log(f"{venv.name}: creating with {interpreter} ({expected['python']})")
        _run([interpreter, "-m", "venv", str(venv)])
        py = venv / "bin" / "python"
        _run([str(py), "-m", "pip", "install", "--upgrade", "pip"])
        log(f"{venv.name}: installing {' '.join(spec.requirements)}")
        _run([str(py), "-m", "pip", "install", *spec.requirements])
        version = peer_version(py, spec.module)
        (venv / STAMP_NAME).write_text(json.dumps(expected, indent=2) + "\n")
        log(
            f"{venv.name}: ready ({spec.module} {version}, "
            f"{time.perf_counter() - started:.0f} s, {dir_size(venv) / 2**20:.0f} MiB)"
        )
    return py


def dir_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def main(argv: Sequence[str] | None = None) -> None:
    """Build or check the environments named on the command line (all peers by default)."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(PEERS)
    for name in names:
        py = ensure_env(name)
        version = peer_version(py, PEERS[name].module)
        where = env_dir(name) if PEERS[name].requirements else Path(sys.prefix)
        print(
            f"{name}: {PEERS[name].module} {version} in {where} ({dir_size(where) / 2**20:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
