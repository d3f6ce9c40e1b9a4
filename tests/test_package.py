"""Package shape: the numerical core needs only NumPy/SciPy (and numba for compiled loops),
public ``__all__`` lists are complete, and ``import modelmon`` stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

CORE = ["modelmon.metrics", "modelmon.drift", "modelmon.detectors", "modelmon.degradation",
        "modelmon.judgement", "modelmon.estimation", "modelmon.vocabulary", "modelmon.backtest"]
SERVICE_DEPS = ["fastapi", "starlette", "uvicorn", "duckdb", "pyarrow", "pandas", "polars",
                "httpx", "pydantic", "prometheus_client", "yaml", "typer", "rich", "plotly",
                "jinja2", "psutil", "sklearn", "river", "orjson"]


def test_core_layers_work_with_service_dependencies_blocked() -> None:
    script = textwrap.dedent(f"""
        import sys, importlib.abc
        BLOCKED = {SERVICE_DEPS!r}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked in this test: {{name}}")
                return None
        sys.meta_path.insert(0, Block())
        import numpy as np
        from modelmon import metrics, drift, detectors, degradation, judgement, backtest
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 200); s = rng.random(200)
        assert 0 <= metrics.accuracy_score(y, (s > 0.5).astype(int)) <= 1
        assert 0 <= metrics.roc_auc_score(y, s) <= 1
        res = drift.compare({{"a": rng.normal(size=500), "c": np.array(list("xyzxy") * 100)}},
                            {{"a": rng.normal(1, 1, 500), "c": np.array(list("xyzxy") * 100)}})
        assert [f.feature for f in res.features] == ["a", "c"] and res.features[0].drifted
        found = detectors.ADWIN().update_many(np.r_[np.zeros(2000), np.ones(2000)])
        assert len(found.drifts) >= 1
        rep = degradation.detect_degradation({{"accuracy": rng.normal(0.7, 0.01, 10)}},
                                             {{"accuracy": rng.normal(0.9, 0.01, 30)}})
        assert rep.degraded == ("accuracy",)
        from modelmon import estimation
        cbpe = estimation.CBPE().fit((s > rng.random(200)).astype(int), s)
        assert 0 <= cbpe.estimate(s)["accuracy"].value <= 1
        dle = estimation.DLE(n_estimators=5, min_child_samples=5).fit(
            {{"a": s}}, s, s + rng.normal(size=200))
        assert dle.estimate({{"a": s}}, s)["mae"].value > 0
        band = judgement.MetricBand.fit("accuracy", [0.9, 0.91, 0.89, 0.9], [100] * 4)
        assert band is not None and band.sigmas(0.5, 100, judgement.bands.Direction.HIGHER) > 10
        bt = backtest.backtest(backtest.Panel(rng.normal(size=(50, 4)), rng.normal(0, 0.01, (50, 4))),
                               backtest.TopK(k=2), costs=backtest.Costs(fees="5bp"))
        assert bt.equity.size == 50 and bt.stats.trades > 0
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


@pytest.mark.parametrize("module", ["modelmon", *CORE, "modelmon.config", "modelmon.store",
                                    "modelmon.evaluation", "modelmon.sdk", "modelmon.actions"])
def test_all_is_complete_and_importable(module: str) -> None:
    mod = importlib.import_module(module)
    names = mod.__all__
    assert len(names) == len(set(names)), "duplicates in __all__"
    for name in names:
        assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which does not exist"
    public = {n for n, v in vars(mod).items() if not n.startswith("_")
              and getattr(v, "__module__", "").startswith(module)
              and callable(v)}
    missing = sorted(public - set(names))
    assert not missing, f"public names missing from {module}.__all__: {missing}"


def test_import_modelmon_is_light() -> None:
    script = ("import sys, time; t = time.perf_counter(); import modelmon; "
              "print(time.perf_counter() - t); "
              "print(','.join(m for m in ('numba', 'duckdb', 'fastapi', 'scipy', 'pyarrow') "
              "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.splitlines()[1] if len(done.stdout.splitlines()) > 1 else ""
    assert loaded == "", f"import modelmon loaded heavy modules: {loaded}"
