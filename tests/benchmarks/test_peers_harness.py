"""Fast tests of the peer-library harness (benchmarks/peers): the Parquet exchange, the runner
protocol, result parsing, summaries, time-outs and environment stamps. Nothing here builds a peer
environment; the SciPy runner, which runs in this interpreter, is exercised end to end."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import benchmarks.peers as peers
import numpy as np
import pytest
from benchmarks.data import CATEGORICAL, DRIFTING, FEATURES, NUMERIC, STABLE, make_frames
from benchmarks.peers import _runner_io, envs, exchange

ROOT = Path(__file__).resolve().parents[2]

N = 600


@pytest.fixture(scope="module")
def frame_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    return exchange.ensure_frames(N, seed=3, root=root)


def _read(ref: Path, cur: Path, warmup_rows: int = 0) -> _runner_io.Frames:
    args = _runner_io.parse_args(
        [*exchange.runner_args(ref, cur), "--warmup-rows", str(warmup_rows)]
    )
    return _runner_io.read_frames(args)


# --- the data exchange ---------------------------------------------------------------------------


def test_parquet_round_trip_as_numpy(frame_files: tuple[Path, Path]) -> None:
    want_ref, want_cur = make_frames(N, seed=3)
    got_ref, got_cur = _runner_io.as_numpy(_read(*frame_files))
    for want, got in ((want_ref, got_ref), (want_cur, got_cur)):
        assert list(got) == FEATURES
        for name in NUMERIC:
            assert got[name].dtype == np.float64
            np.testing.assert_array_equal(got[name], want[name])
        for name in CATEGORICAL:
            assert got[name].dtype.kind == "U"
            np.testing.assert_array_equal(got[name], want[name])


def test_parquet_round_trip_as_pandas(frame_files: tuple[Path, Path]) -> None:
    want_ref, want_cur = make_frames(N, seed=3)
    got_ref, got_cur = _runner_io.as_pandas(_read(*frame_files))
    for want, got in ((want_ref, got_ref), (want_cur, got_cur)):
        assert list(got.columns) == FEATURES
        assert len(got) == N
        for name in FEATURES:
            np.testing.assert_array_equal(got[name].to_numpy(), want[name])


def test_frames_are_cached_and_seed_specific(tmp_path: Path) -> None:
    ref, cur = exchange.ensure_frames(50, seed=1, root=tmp_path)
    stamp = (ref.stat().st_mtime_ns, cur.stat().st_mtime_ns)
    assert exchange.ensure_frames(50, seed=1, root=tmp_path) == (ref, cur)
    assert (ref.stat().st_mtime_ns, cur.stat().st_mtime_ns) == stamp
    other, _ = exchange.ensure_frames(50, seed=2, root=tmp_path)
    assert other != ref
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary files


def test_runner_args_declare_every_feature_type(frame_files: tuple[Path, Path]) -> None:
    frames = _read(*frame_files)
    assert frames.numeric == NUMERIC
    assert frames.categorical == CATEGORICAL
    assert frames.n == N


# --- the runner protocol -------------------------------------------------------------------------


def _run_fake(
    frame_files: tuple[Path, Path], detect: _runner_io.Detector, warmup_rows: int = 0
) -> tuple[int, dict[str, Any], str]:
    out = io.StringIO()
    argv = [*exchange.runner_args(*frame_files), "--warmup-rows", str(warmup_rows)]
    with redirect_stdout(out):
        code = _runner_io.run("fake", lambda: "1.2.3", detect, _runner_io.as_numpy, argv)
    result = exchange.parse_result(out.getvalue())
    assert result is not None
    return code, result, out.getvalue()


def test_runner_reports_flags_in_feature_order_and_keeps_stdout_clean(
    frame_files: tuple[Path, Path],
) -> None:
    calls: list[int] = []

    def detect(frames: _runner_io.Frames) -> tuple[list[str], dict[str, dict[str, Any]]]:
        ref, _ = frames.data
        calls.append(len(ref["num_00"]))
        print("library chatter that must not reach the harness")
        return ["cat_1", "num_03"], {"num_03": {"value": 1.0}}

    code, result, stdout = _run_fake(frame_files, detect, warmup_rows=100)
    assert code == 0
    assert stdout.count("\n") == 1  # exactly one line: the chatter went to stderr
    assert result["peer"] == "fake"
    assert result["version"] == "1.2.3"
    assert result["n"] == N
    assert result["flagged"] == ["num_03", "cat_1"]
    assert result["error"] is None
    assert result["detail"] == {"num_03": {"value": 1.0}}
    assert calls == [100, N]  # the warm-up ran on the leading rows, then the timed run on all
    assert result["seconds"] >= 0
    assert result["load_seconds"] > 0
    assert result["warmup_seconds"] >= 0
    assert result["peak_rss_mib"] > 0


def test_runner_reports_an_exception_as_error(frame_files: tuple[Path, Path]) -> None:
    def detect(frames: _runner_io.Frames) -> tuple[list[str], dict[str, dict[str, Any]]]:
        raise KeyError("num_99")

    code, result, _ = _run_fake(frame_files, detect)
    assert code == 1
    assert result["error"] == "KeyError: 'num_99'"
    assert result["flagged"] == []
    assert result["seconds"] is None


def test_runner_rejects_flags_for_undeclared_features(frame_files: tuple[Path, Path]) -> None:
    code, result, _ = _run_fake(frame_files, lambda frames: (["num_00", "bogus"], {}))
    assert code == 1
    assert "bogus" in result["error"]


# --- parsing and summarising results -------------------------------------------------------------


def test_parse_result_takes_the_last_result_line() -> None:
    first = {"peer": "a", "flagged": ["x"]}
    last = {"peer": "b", "version": "2", "flagged": None}
    stdout = "\n".join(
        [
            "banner",
            json.dumps(first),
            '{"not": "a result"}',
            json.dumps(last),
            "{broken json",
            "trailing chatter",
        ]
    )
    result = exchange.parse_result(stdout)
    assert result is not None
    assert result["peer"] == "b"
    assert result["version"] == "2"
    assert result["flagged"] == []
    for key in exchange.RESULT_KEYS:
        assert key in result
    assert result["error"] is None


@pytest.mark.parametrize("stdout", ["", "no json here\n", '{"other": 1}\n', "{not json\n"])
def test_parse_result_without_a_result_line(stdout: str) -> None:
    assert exchange.parse_result(stdout) is None


def test_summarize_counts_drifting_and_stable() -> None:
    flagged = [*list(DRIFTING)[:-1], STABLE[0], STABLE[3]]
    row = peers.summarize(
        {
            "peer": "p",
            "version": "1",
            "n": 10,
            "seconds": 0.5,
            "load_seconds": 2,
            "flagged": flagged,
        }
    )
    assert row["flagged_drifting"] == len(DRIFTING) - 1
    assert row["flagged_stable"] == 2
    assert row["missed"] == list(DRIFTING)[-1]
    assert row["false_alarms"] == f"{STABLE[0]}, {STABLE[3]}"
    assert row["seconds"] == 0.5
    assert row["error"] == ""
    perfect = peers.summarize({"peer": "p", "n": 10, "seconds": 1.0, "flagged": list(DRIFTING)})
    assert (perfect["missed"], perfect["false_alarms"]) == ("-", "-")


def test_summarize_an_error_has_no_counts() -> None:
    row = peers.summarize({"peer": "p", "n": 10, "error": "timeout", "flagged": []})
    assert row["error"] == "timeout"
    assert np.isnan(row["seconds"])
    assert np.isnan(row["flagged_drifting"])
    assert np.isnan(row["flagged_stable"])


# --- subprocesses and time-outs ------------------------------------------------------------------


def test_invoke_kills_a_runner_that_outlives_its_timeout() -> None:
    t0 = time.perf_counter()
    code, _, _ = peers.invoke([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert code is None
    assert time.perf_counter() - t0 < 10


def test_invoke_returns_exit_code_and_output() -> None:
    code, out, err = peers.invoke(
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
        ],
        timeout=30,
    )
    assert (code, out.strip(), err.strip()) == (3, "out", "err")


def test_scipy_runner_end_to_end(frame_files: tuple[Path, Path]) -> None:
    """The baseline runner, as the harness runs it, agrees with SciPy called directly."""
    from scipy import stats

    runner = Path(peers.RUNNER_DIR) / envs.PEERS["scipy"].runner
    code, out, err = peers.invoke(
        [sys.executable, str(runner), *exchange.runner_args(*frame_files)], timeout=120
    )
    assert code == 0, err
    result = exchange.parse_result(out)
    assert result is not None
    assert result["error"] is None
    assert result["n"] == N
    ref, cur = make_frames(N, seed=3)
    want = []
    for name in NUMERIC:
        p = stats.ks_2samp(ref[name], cur[name]).pvalue
        assert result["detail"][name]["p_value"] == pytest.approx(p, rel=1e-12, abs=1e-300)
        if p < 0.05:
            want.append(name)
    for name in CATEGORICAL:
        levels = sorted(set(ref[name]) | set(cur[name]))
        table = [[int(np.sum(frame[name] == v)) for v in levels] for frame in (ref, cur)]
        p = stats.chi2_contingency(table).pvalue
        assert result["detail"][name]["p_value"] == pytest.approx(p, rel=1e-12, abs=1e-300)
        if p < 0.05:
            want.append(name)
    assert result["flagged"] == want


def test_alibi_encoding_is_consistent_across_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(peers.RUNNER_DIR))
    import run_alibi_detect

    ref = np.array(["b", "a", "c", "a"])
    cur = np.array(["c", "z", "a", "y", "z", "b"])
    ref_codes, cur_codes = run_alibi_detect.encode(ref, cur)
    np.testing.assert_array_equal(ref_codes, [1, 0, 2, 0])
    np.testing.assert_array_equal(cur_codes, [2, 4, 0, 3, 4, 1])
    same_ref, same_cur = run_alibi_detect.encode(ref, ref[::-1].copy())
    np.testing.assert_array_equal(same_cur, same_ref[::-1])


# --- command line and environments ---------------------------------------------------------------


def test_unknown_peer_is_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown peer"):
        peers.run_peer("nope", 10)
    with pytest.raises(ValueError, match="Unknown peers"):
        peers.run_all([10], ["scipy", "nope"])
    with pytest.raises(ValueError, match="Unknown peer"):
        envs.ensure_env("nope")


def test_scipy_runs_in_this_interpreter() -> None:
    assert envs.ensure_env("scipy") == Path(sys.executable)


def test_size_list_parsing() -> None:
    assert peers._int_list("10_000,100000,") == [10_000, 100_000]


def test_stamp_decides_reuse(tmp_path: Path) -> None:
    spec = envs.PEERS["alibi-detect"]
    venv = envs.env_dir("alibi-detect", tmp_path)
    assert venv == tmp_path / ".venv-alibi-detect"
    expected = envs.stamp_content(spec, "3.11.7")
    assert not envs.is_current(venv, expected)  # nothing there
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    assert not envs.is_current(venv, expected)  # no stamp: an interrupted build
    (venv / envs.STAMP_NAME).write_text(json.dumps(expected))
    assert envs.is_current(venv, expected)
    assert not envs.is_current(venv, envs.stamp_content(spec, "3.12.1"))
    changed = envs.PeerEnv(spec.name, (*spec.requirements, "extra==1"), spec.module, spec.runner)
    assert not envs.is_current(venv, envs.stamp_content(changed, "3.11.7"))
    (venv / envs.STAMP_NAME).write_text("{corrupt")
    assert not envs.is_current(venv, expected)


def test_peer_version_reads_the_module_version() -> None:
    import scipy

    assert envs.peer_version(sys.executable, "scipy") == scipy.__version__
    with pytest.raises(subprocess.CalledProcessError):
        envs.peer_version(sys.executable, "no_such_module_here")


def test_every_peer_has_a_runner_script() -> None:
    for spec in envs.PEERS.values():
        assert (Path(peers.RUNNER_DIR) / spec.runner).is_file()


def test_a_peer_that_cannot_install_gets_error_rows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing_env(peer: str) -> Path:
        raise subprocess.CalledProcessError(1, ["pip", "install", peer])

    monkeypatch.setattr(peers, "ensure_env", failing_env)
    monkeypatch.setattr(
        peers, "ensure_frames", lambda n, seed: exchange.ensure_frames(n, seed, tmp_path)
    )
    rows = peers.run_all([40, 20], ["evidently"])
    assert [(r["peer"], r["n"]) for r in rows] == [("evidently", 20), ("evidently", 40)]
    for row in rows:
        assert row["error"].startswith("environment: Command '['pip', 'install', 'evidently']'")
        assert np.isnan(row["seconds"])
