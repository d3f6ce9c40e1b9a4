"""Registry of drift tests by name; users register their own.

A :class:`DriftTest` wraps a function ``func(reference, current, **params)`` taking two column
summaries (:class:`~modelmon.drift.NumericSummary` or
:class:`~modelmon.drift.CategoricalSummary`) and returning a p-value test's
``(statistic, p_value)``, a distance's float, or an internal ``Outcome``. ``kind`` says how a
threshold is read: ``"p_value"`` tests flag drift when ``p < threshold``, ``"distance"`` tests
when ``statistic >= threshold``.

>>> from modelmon.drift import get_test
>>> t = get_test("psi")
>>> t.kind, t.default_threshold, sorted(t.feature_types)
('distance', 0.1, ['categorical', 'numeric'])

A custom test, in a fresh registry (tests and applications can keep their own):

>>> import numpy as np
>>> from modelmon.drift import DriftTest, TestRegistry
>>> registry = TestRegistry()
>>> def median_shift(ref, cur):
...     return abs(np.median(cur.to_array()) - np.median(ref.to_array()))
>>> registry.register(DriftTest("median_shift", median_shift, {"numeric"}, "distance", 1.0))
>>> registry.names()
['median_shift']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelmon.drift import categorical as _cat
from modelmon.drift import distances as _dist
from modelmon.drift import numeric as _num
from modelmon.drift._common import Outcome, Summary
from modelmon.exceptions import NotFoundError, ParameterError

__all__ = [
    "DriftTest",
    "TestRegistry",
    "available_tests",
    "default_registry",
    "get_test",
    "register_test",
]

_KINDS = ("p_value", "distance")
_TYPES = frozenset({"numeric", "categorical"})


@dataclass(frozen=True)
class DriftTest:
    """A named two-sample drift test.

    Parameters
    ----------
    name : str
        Registry name, used in ``tests=`` and in results.
    func : callable
        ``func(reference_summary, current_summary, **params)`` returning ``(statistic,
        p_value)`` for a p-value test, a float for a distance, or an ``Outcome``.
    feature_types : set of {"numeric", "categorical"}
        Feature types it accepts.
    kind : {"p_value", "distance"}
        How the threshold is read.
    default_threshold : float or None
        Threshold used when ``thresholds=`` gives none (None: the caller must give one).
    description : str
        One line for docs and reports.
    params : mapping
        Keyword arguments passed to ``func`` (see :meth:`with_params`).
    """

    __test__ = False  # not a pytest test class

    name: str
    func: Callable[..., Any]
    feature_types: frozenset[str] | set[str]
    kind: str
    default_threshold: float | None
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        types = frozenset(self.feature_types)
        if not types or not types <= _TYPES:
            raise ParameterError(
                f"The 'feature_types' of drift test {self.name!r} must be a non-empty subset of "
                f"{sorted(_TYPES)}. Got {sorted(types)} instead.",
                loc=("feature_types",),
            )
        if self.kind not in _KINDS:
            raise ParameterError(
                f"The 'kind' of drift test {self.name!r} must be one of {list(_KINDS)}. "
                f"Got {self.kind!r} instead.",
                loc=("kind",),
            )
        object.__setattr__(self, "feature_types", types)
        object.__setattr__(self, "params", dict(self.params))

    def with_params(self, **params: Any) -> DriftTest:
        """A copy passing ``params`` to the function, e.g. ``get_test("psi").with_params(bins=20)``."""
        return DriftTest(
            self.name,
            self.func,
            self.feature_types,
            self.kind,
            self.default_threshold,
            self.description,
            {**self.params, **params},
        )

    def run(self, reference: Summary, current: Summary) -> Outcome:
        """Run on two summaries and return an ``Outcome`` (warnings carried as data)."""
        out = self.func(reference, current, **self.params)
        if isinstance(out, Outcome):
            return out
        if self.kind == "p_value":
            statistic, p_value = out
            return Outcome(float(statistic), float(p_value))
        return Outcome(float(out))

    def is_drift(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        """Apply the threshold; an undefined statistic is never drift."""
        if self.kind == "p_value":
            return p_value is not None and not math.isnan(p_value) and p_value < threshold
        return not math.isnan(statistic) and statistic >= threshold


@dataclass
class TestRegistry:
    """Drift tests by name. :data:`default_registry` holds the built-in ones."""

    __test__ = False  # not a pytest test class

    _items: dict[str, DriftTest] = field(default_factory=dict)

    def register(self, test: DriftTest, *, replace: bool = False) -> None:
        """Add ``test``; refuse to replace an existing name unless ``replace``."""
        if test.name in self._items and not replace:
            raise ParameterError(
                f"A drift test named {test.name!r} is already registered; pass replace=True.",
                loc=("name",),
            )
        self._items[test.name] = test

    def get(self, name: str) -> DriftTest:
        """The test called ``name``, or :class:`~modelmon.exceptions.NotFoundError`."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"Unknown drift test {name!r}. Known tests: {', '.join(sorted(self._items))}.",
                loc=("tests",),
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[DriftTest]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def names(self, feature_type: str | None = None) -> list[str]:
        """Sorted names, optionally only the tests accepting ``feature_type``."""
        return sorted(
            n
            for n, t in self._items.items()
            if feature_type is None or feature_type in t.feature_types
        )


default_registry = TestRegistry()


def register_test(test: DriftTest, *, replace: bool = False) -> DriftTest:
    """Register ``test`` in the default registry (so ``compare(tests=...)`` finds it)."""
    default_registry.register(test, replace=replace)
    return test


def get_test(name: str) -> DriftTest:
    """Look a test up in the default registry."""
    return default_registry.get(name)


def available_tests(feature_type: str | None = None) -> list[str]:
    """Names of the registered tests, optionally for one feature type.

    >>> available_tests("categorical")[:3]
    ['chi_square', 'hellinger', 'jensen_shannon']
    """
    return default_registry.names(feature_type)


_NUM = {"numeric"}
_CAT = {"categorical"}
_BOTH = {"numeric", "categorical"}

for _t in (
    DriftTest("ks", _num._ks, _NUM, "p_value", 0.05, "Kolmogorov–Smirnov two-sample test"),
    DriftTest(
        "cramer_von_mises", _num._cvm, _NUM, "p_value", 0.05, "Cramér–von Mises two-sample test"
    ),
    DriftTest(
        "anderson_darling",
        _num._ad,
        _NUM,
        "p_value",
        0.05,
        "Anderson–Darling k-sample test (midrank)",
    ),
    DriftTest(
        "mean_shift_z", _num._mean_z, _NUM, "p_value", 0.05, "z-test for a shift in the mean"
    ),
    DriftTest(
        "variance_f", _num._variance_f, _NUM, "p_value", 0.05, "F-test for a change in variance"
    ),
    DriftTest(
        "wasserstein",
        _dist._wasserstein,
        _NUM,
        "distance",
        None,
        "Wasserstein-1 distance (data units)",
    ),
    DriftTest(
        "normalized_wasserstein",
        _dist._wasserstein,
        _NUM,
        "distance",
        0.1,
        "Wasserstein-1 distance / reference standard deviation",
        {"normalize": True},
    ),
    DriftTest("energy", _dist._energy, _NUM, "distance", None, "energy distance (data units)"),
    DriftTest("psi", _dist._psi, _BOTH, "distance", 0.1, "population stability index"),
    DriftTest(
        "jensen_shannon", _dist._js, _BOTH, "distance", 0.1, "Jensen–Shannon distance (base 2)"
    ),
    DriftTest(
        "kl_divergence",
        _dist._kl,
        _BOTH,
        "distance",
        0.1,
        "KL divergence reference || current (nats)",
    ),
    DriftTest("hellinger", _dist._hellinger, _BOTH, "distance", 0.1, "Hellinger distance"),
    DriftTest(
        "total_variation",
        _dist._total_variation,
        _BOTH,
        "distance",
        0.1,
        "total variation distance",
    ),
    DriftTest(
        "chi_square", _cat._chi_square, _CAT, "p_value", 0.05, "chi-square test of homogeneity"
    ),
    DriftTest(
        "proportions_z", _cat._proportions_z, _CAT, "p_value", 0.05, "z-test for two proportions"
    ),
):
    default_registry.register(_t)
