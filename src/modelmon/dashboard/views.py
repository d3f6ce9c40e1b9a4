"""Role views: which components a page shows for whom. One set of components, several views.

* ``executive``: status counts, availability, business metrics;
* ``operations``: latency, throughput, errors, the host, alerts;
* ``science``: quality, drift, fairness, feature importance, data quality;
* ``all`` (the default): everything.

Pages render each component once, guarded by ``shows(name)``; a view only selects.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["COMPONENTS", "VIEWS", "shows_for", "view_of"]

COMPONENTS = frozenset({
    "status", "availability", "business", "latency", "throughput", "errors", "host", "alerts",
    "quality", "drift", "fairness", "importance", "data_quality", "history", "versions",
})

VIEWS: dict[str, frozenset[str]] = {
    "all": COMPONENTS,
    "executive": frozenset({"status", "availability", "business", "history"}),
    "operations": frozenset({"status", "latency", "throughput", "errors", "host", "alerts",
                             "availability"}),
    "science": frozenset({"status", "quality", "drift", "fairness", "importance",
                          "data_quality", "history", "versions"}),
}

#: How each view is named in the page's view switch.
VIEW_TITLES = {"all": "All", "executive": "Executive", "operations": "Operations",
               "science": "Data science"}


def view_of(text: str | None) -> str:
    """The view a ``?view=`` parameter names (``all`` for anything else).

    >>> view_of("operations"), view_of("nonsense"), view_of(None)
    ('operations', 'all', 'all')
    """
    return text if text in VIEWS else "all"


def shows_for(view: str) -> Callable[[str], bool]:
    """``shows(component)`` for templates."""
    chosen = VIEWS[view_of(view)]

    def shows(component: str) -> bool:
        if component not in COMPONENTS:
            raise KeyError(f"unknown dashboard component {component!r}")
        return component in chosen

    return shows
