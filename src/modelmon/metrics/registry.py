"""Registry of named metrics: what each computes, what it needs, and which way is better.

The evaluation engine looks metrics up by name ("compute ``f1`` per window"), fairness computes
"any metric per group" by name, and degradation detection needs each metric's direction. Every
public metric function registers itself here with :func:`register_metric`.

>>> from modelmon.metrics.registry import Direction, get_metric
>>> get_metric("accuracy").direction is Direction.HIGHER
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from modelmon.exceptions import NotFoundError
from modelmon.vocabulary import Direction

__all__ = [
    "Direction",
    "MetricInfo",
    "MetricRegistry",
    "default_registry",
    "get_metric",
    "metric_names",
    "register_metric",
]


@dataclass(frozen=True)
class MetricInfo:
    """What the registry knows about one metric.

    Attributes
    ----------
    name : str
        Short stable name used in configs, the API and stored time series (``"f1"``, ``"mae"``).
    func : callable
        The batch function, ``func(y_true, y_pred_or_score, **kwargs) -> float``.
    direction : Direction
        Which way is better.
    tasks : tuple of str
        Tasks it applies to: ``"binary"``, ``"multiclass"``, ``"regression"``, ``"finance"``,
        ``"business"``, ``"fairness"`` (fairness metrics also take ``groups=``).
    input : str
        What the second argument is: ``"label"`` (predicted labels), ``"score"`` (probability of
        the positive class, or a 2-D probability matrix for multiclass), ``"value"`` (regression
        output).
    target : float or None
        Best value, for ``Direction.TARGET``.
    description : str
        One line for dashboards and docs.
    """

    name: str
    func: Callable[..., Any]
    direction: Direction
    tasks: tuple[str, ...]
    input: str = "label"
    target: float | None = None
    description: str = ""


@dataclass
class MetricRegistry:
    """A mutable mapping of metric name to :class:`MetricInfo`. Tests build a fresh one."""

    _items: dict[str, MetricInfo] = field(default_factory=dict)

    def register(self, info: MetricInfo, *, replace: bool = False) -> None:
        """Add ``info``; refuse to silently replace an existing name unless ``replace``."""
        if info.name in self._items and not replace and self._items[info.name].func is not info.func:
            raise ValueError(f"metric {info.name!r} is already registered")
        self._items[info.name] = info

    def get(self, name: str) -> MetricInfo:
        """Return the metric called ``name`` or raise :class:`~modelmon.exceptions.NotFoundError`."""
        try:
            return self._items[name]
        except KeyError:
            raise NotFoundError(
                f"Unknown metric {name!r}. Known metrics: {', '.join(sorted(self._items))}.",
                loc=("metric",),
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[MetricInfo]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def names(self, task: str | None = None) -> list[str]:
        """Sorted metric names, optionally only those applying to ``task``."""
        return sorted(n for n, i in self._items.items() if task is None or task in i.tasks)


default_registry = MetricRegistry()

F = TypeVar("F", bound=Callable[..., Any])


def register_metric(
    name: str,
    direction: Direction,
    tasks: tuple[str, ...],
    *,
    input: str = "label",
    target: float | None = None,
    description: str = "",
    registry: MetricRegistry | None = None,
) -> Callable[[F], F]:
    """Decorator registering a batch metric function under ``name``."""

    def deco(func: F) -> F:
        # ``is None``, not ``or``: an empty registry is falsy (it has a __len__)
        (default_registry if registry is None else registry).register(
            MetricInfo(name, func, direction, tasks, input, target, description)
        )
        return func

    return deco


def get_metric(name: str) -> MetricInfo:
    """Look a metric up in the default registry (importing :mod:`modelmon.metrics` first)."""
    import modelmon.metrics  # noqa: F401  (registers the built-in metrics)

    return default_registry.get(name)


def metric_names(task: str | None = None) -> list[str]:
    """Names of the registered built-in metrics, optionally for one task."""
    import modelmon.metrics  # noqa: F401

    return default_registry.names(task)
