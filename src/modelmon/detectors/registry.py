"""Registry of detectors by name, so that configurations can choose them (``"adwin"``, ...).

>>> from modelmon.detectors import make_detector
>>> make_detector("adwin", delta=0.01)
ADWIN(delta=0.01)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from modelmon.detectors.adwin import ADWIN
from modelmon.detectors.base import DriftDetector
from modelmon.detectors.cusum import CUSUM
from modelmon.detectors.ddm import DDM
from modelmon.detectors.eddm import EDDM
from modelmon.detectors.hddm_a import HDDM_A
from modelmon.detectors.hddm_w import HDDM_W
from modelmon.detectors.kswin import KSWIN
from modelmon.detectors.page_hinkley import PageHinkley
from modelmon.exceptions import NotFoundError, ParameterError

__all__ = [
    "DetectorRegistry",
    "default_registry",
    "detector_names",
    "make_detector",
]


class DetectorRegistry:
    """A mapping of name to detector class. Tests build a fresh one.

    Examples
    --------
    >>> from modelmon.detectors import DDM
    >>> registry = DetectorRegistry()
    >>> registry.register("ddm", DDM)
    >>> registry.make("ddm", warm_start=50)
    DDM(warm_start=50)
    >>> registry.names()
    ['ddm']
    """

    def __init__(self) -> None:
        self._items: dict[str, type[DriftDetector]] = {}

    def register(self, name: str, cls: type[DriftDetector], *, replace: bool = False) -> None:
        """Add ``cls`` under ``name``; refuse to replace another class unless ``replace``."""
        if not (isinstance(cls, type) and issubclass(cls, DriftDetector)):
            raise TypeError(f"{cls!r} is not a DriftDetector subclass")
        current = self._items.get(name)
        if current is not None and current is not cls and not replace:
            raise ValueError(f"detector {name!r} is already registered ({current.__name__})")
        self._items[name] = cls

    def get(self, name: str) -> type[DriftDetector]:
        """Return the class registered as ``name``, or raise :class:`NotFoundError`."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"Unknown detector {name!r}. Known detectors: {', '.join(self.names())}.",
                loc=("detector",),
            ) from None

    def make(self, name: str, **params: Any) -> DriftDetector:
        """Build the detector ``name`` with ``params``.

        Unknown parameter names raise :class:`ParameterError` listing the valid ones, and
        invalid values raise the detector's own :class:`ParameterError`.
        """
        cls = self.get(name)
        valid = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ParameterError(
                f"Invalid parameter {unknown[0]!r} for detector {cls.__name__}. "
                f"Valid parameters are: {valid!r}.",
                loc=(unknown[0],),
            )
        return cls(**params)

    def names(self) -> list[str]:
        """Sorted registered names."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)


default_registry = DetectorRegistry()
for _cls in (ADWIN, CUSUM, DDM, EDDM, HDDM_A, HDDM_W, KSWIN, PageHinkley):
    default_registry.register(_cls.name, _cls)


def make_detector(name: str, **params: Any) -> DriftDetector:
    """Build a detector of the default registry by name.

    Parameters
    ----------
    name : str
        One of :func:`detector_names`: ``"adwin"``, ``"cusum"``, ``"ddm"``, ``"eddm"``,
        ``"hddm_a"``, ``"hddm_w"``, ``"kswin"``, ``"page_hinkley"``.
    **params
        Constructor parameters of that detector.

    Returns
    -------
    DriftDetector

    Raises
    ------
    NotFoundError
        If no detector is registered as ``name``.
    ParameterError
        If a parameter name is unknown or a value is out of its domain.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import make_detector
    >>> detector = make_detector("adwin", delta=0.01)
    >>> detector
    ADWIN(delta=0.01)
    >>> rng = np.random.default_rng(2)
    >>> detector.update_many(np.r_[rng.normal(0, 1, 1000), rng.normal(2, 1, 1000)]).drifts
    array([1023])
    """
    return default_registry.make(name, **params)


def detector_names() -> list[str]:
    """Names of the detectors in the default registry.

    >>> detector_names()
    ['adwin', 'cusum', 'ddm', 'eddm', 'hddm_a', 'hddm_w', 'kswin', 'page_hinkley']
    """
    return default_registry.names()
