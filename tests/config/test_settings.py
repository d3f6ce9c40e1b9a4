"""Settings: YAML + environment, errors that name key, value and expectation; spec inference."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.config import FeatureType, ModelSpec, load_settings
from modelmon.config.inference import complete_spec
from modelmon.exceptions import ConfigError


def write(tmp: Path, text: str) -> Path:
    p = tmp / "modelmon.yaml"
    p.write_text(text)
    return p


def test_defaults_without_a_file() -> None:
    s = load_settings(env={})
    assert s.store.backend == "duckdb" and s.server.port == 8000 and s.models == []


def test_env_interpolation_and_api_key(tmp_path: Path) -> None:
    p = write(tmp_path, "server:\n  port: ${PORT:-9100}\n  public_url: ${URL}\nstore: {path: data/x.duckdb}\n")
    s = load_settings(p, env={"URL": "http://mm.example", "MODELMON_API_KEY": "zq-secret-91"})
    assert s.server.port == 9100 and s.server.public_url == "http://mm.example"
    assert s.server.api_key is not None and s.server.api_key.get_secret_value() == "zq-secret-91"
    assert s.store.path == str(tmp_path / "data" / "x.duckdb")  # relative to the file
    assert "zq-secret-91" not in str(s.summary()) and "zq-secret-91" not in repr(s)


def test_missing_env_variable_is_named(tmp_path: Path) -> None:
    p = write(tmp_path, "server:\n  public_url: ${NOPE}\n")
    with pytest.raises(ConfigError, match="NOPE is not set"):
        load_settings(p, env={})


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("models:\n  - {name: fraud, task: binary}\n",
         ["models[0].task (model 'fraud')", "'binary_classification'", "got 'binary'"]),
        ("server: {port: 70000}\n", ["server.port", "less than or equal to 65535", "got 70000"]),
        ("models:\n  - {name: m, task: regression, windows: [5 minutes]}\n",
         ["models[0].windows", "invalid window '5 minutes'"]),
        ("models:\n  - {name: m, task: regression, features: [{name: a, type: numbr}]}\n",
         ["models[0].features[0].type", "got 'numbr'"]),
        ("stor: {}\n", ["stor", "Extra inputs are not permitted"]),
        ("server: {workers: 4}\n", ["server.workers must be 1"]),
        ("models:\n  - {name: a, task: regression}\n  - {name: a, task: regression}\n",
         ["model names must be unique", "['a']"]),
        ("store: [1]\n", ["store", "valid dictionary"]),
    ],
)
def test_errors_name_key_value_and_expectation(tmp_path: Path, yaml_text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, yaml_text), env={})
    for part in expected:
        assert part in info.value.message, info.value.message


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "models: [\n"), env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml", env={})


def test_starter_config_is_valid(tmp_path: Path) -> None:
    import importlib.resources

    text = (importlib.resources.files("modelmon.config") / "templates" / "starter.yaml").read_text()
    s = load_settings(write(tmp_path, text), env={})
    assert [m.name for m in s.models] == ["fraud", "house_price"]
    assert s.models[0].positive_class == "1"


def test_preset_windows_and_spec_rules() -> None:
    spec = ModelSpec.model_validate({"name": "m", "task": "regression", "preset": "basic"})
    assert [w.name for w in spec.window_schemes] == ["1h", "1d"]
    with pytest.raises(ValueError, match="reserved"):
        ModelSpec.model_validate({"name": "m", "task": "regression",
                                  "features": [{"name": "score", "type": "numeric"}]})
    with pytest.raises(ValueError, match="exactly 2 classes"):
        ModelSpec.model_validate({"name": "m", "task": "binary_classification",
                                  "prediction": {"classes": [1, 2, 3]}})


def test_features_inferred_from_reference(tmp_path: Path) -> None:
    table = pa.table({"age": pa.array([1, 2], pa.int32()), "income": [1.5, 2.5],
                      "city": ["a", "b"], "vip": [True, False], "prediction": [0, 1],
                      "region": ["eu", "us"]})
    pq.write_table(table, tmp_path / "ref.parquet")
    spec = ModelSpec.model_validate({"name": "m", "task": "binary_classification",
                                     "segments": ["region"],
                                     "reference": {"path": str(tmp_path / "ref.parquet")}})
    full = complete_spec(spec)
    assert {f.name: f.type for f in full.features} == {
        "age": FeatureType.NUMERIC, "income": FeatureType.NUMERIC,
        "city": FeatureType.CATEGORICAL, "vip": FeatureType.BOOLEAN}
    missing = spec.model_copy(update={"reference": spec.reference.model_copy(update={"path": "nope.parquet"})})  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="does not exist"):
        complete_spec(missing)


def test_reference_errors_carry_no_path_and_no_file_contents(tmp_path: Path) -> None:
    from modelmon.config.inference import check_reference, read_reference

    secret = tmp_path / "secret.csv"
    secret.write_text("a\nroot:x:0:0:root:/root:/bin/bash,more\n")
    for read in (read_reference, check_reference):
        with pytest.raises(ConfigError) as info:
            read(str(secret), "csv")
        assert info.value.message == "reference data set 'secret.csv' cannot be read as csv"
        with pytest.raises(ConfigError) as info:
            read(str(tmp_path / "gone.parquet"))
        assert info.value.message == "reference data set 'gone.parquet' does not exist"
        assert info.value.loc == ("reference", "path")
