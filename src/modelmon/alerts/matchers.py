"""Label matchers and fingerprints, as Alertmanager has them.

A matcher is ``name op value`` with ``=``, ``!=``, ``=~`` or ``!~``; regular expressions are
anchored at both ends (``team=~"risk.*"`` matches ``risk-ml``, not ``credit-risk``), and a label
that is absent matches as the empty string. A label set's fingerprint is Alertmanager's
(``model.LabelSet.Fingerprint``: FNV-1a over the sorted names and values with a 0xff separator),
so an alert forwarded to Alertmanager keeps its identity.

>>> m = Matcher.parse('team=~"risk.*"')
>>> m.matches({"team": "risk-ml"}), m.matches({"team": "credit-risk"}), str(m)
(True, False, 'team=~"risk.*"')
>>> fingerprint({"alertname": "ModelDegraded", "model": "fraud"})
'a9c5bfce486240be'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["OPS", "Matcher", "fingerprint", "matches_all"]

OPS = ("=~", "!~", "!=", "=")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARSE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1
_SEPARATOR = 0xFF


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^(?:{pattern})$")


@dataclass(frozen=True)
class Matcher:
    """``name op value`` (see the module docstring)."""

    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid label name {self.name!r}: letters, digits and '_', not "
                             "starting with a digit")
        if self.op not in OPS:
            raise ValueError(f"invalid matcher operator {self.op!r}: one of {', '.join(OPS)}")
        if self.op in ("=~", "!~"):
            try:
                _regex(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {self.value!r}: {exc}") from None

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """A matcher from ``name=value``, ``name!="value"``, ``name=~regex`` ..."""
        m = _PARSE.match(text)
        if not m:
            raise ValueError(f"invalid matcher {text!r}: expected name=value, name!=value, "
                             "name=~regex or name!~regex")
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return cls(m.group(1), m.group(2), value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        got = labels.get(self.name, "")
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        hit = _regex(self.value).match(got) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches (no matchers: everything)."""
    return all(m.matches(labels) for m in matchers)


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set, as 16 hex digits."""
    return _fingerprint(tuple(sorted(labels.items())))


@functools.lru_cache(maxsize=1 << 16)
def _fingerprint(items: tuple[tuple[str, str], ...]) -> str:
    # the same label sets come back every evaluation: computed once (FNV-1a in Python is slow)
    h = _FNV_OFFSET
    for name, value in items:
        for part in (name, value):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEPARATOR) * _FNV_PRIME) & _MASK
    return f"{h:016x}"
