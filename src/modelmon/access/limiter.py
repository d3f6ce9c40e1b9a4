"""Failed authentication, limited per client address and per key id.

After ``limit`` failures within ``window`` seconds from one address (or against one key id), the
address (the key id) is locked out for ``lockout`` seconds: its requests get ``429`` with
``Retry-After`` before any key is checked, so guessing is slow and a flood of bad keys costs
little. A success does not clear the count (an attacker holding one valid key must not be able
to reset the limit for its guesses at others).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FailureLimiter"]


class FailureLimiter:
    """Counts failures per subject (``"addr:1.2.3.4"``, ``"key:abc..."``).

    >>> now = [0.0]
    >>> lim = FailureLimiter(limit=3, window=60, lockout=30, clock=lambda: now[0])
    >>> [lim.fail("addr:x") for _ in range(3)][-1], lim.retry_after("addr:x")
    (30.0, 30.0)
    >>> now[0] = 31; lim.retry_after("addr:x")
    0.0
    """

    def __init__(self, limit: int, window: float, lockout: float, *,
                 clock: Callable[[], float] = time.monotonic, max_subjects: int = 100_000) -> None:
        self.limit, self.window, self.lockout = limit, window, lockout
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._locked: dict[str, float] = {}
        self._max = max_subjects
        self._lock = threading.Lock()
        #: When recent refusals happened (failures and lockout refusals), for the burst rule.
        self._recent: deque[float] = deque(maxlen=100_000)

    def retry_after(self, *subjects: str) -> float:
        """Seconds until the longest lockout among ``subjects`` ends (0: not locked); a locked
        subject's request counts as a refusal."""
        now = self._clock()
        with self._lock:
            ends = [self._locked.get(s, 0.0) for s in subjects]
            wait = max([0.0, *(e - now for e in ends)])
            if wait > 0:
                self._recent.append(now)
        return wait

    def recent(self, seconds: float) -> int:
        """Refusals (failures and lockout refusals) in the last ``seconds``.

        >>> now = [0.0]
        >>> lim = FailureLimiter(limit=2, window=60, lockout=30, clock=lambda: now[0])
        >>> _ = lim.fail("a"); _ = lim.fail("a"); _ = lim.retry_after("a"); now[0] = 10
        >>> lim.recent(60), lim.recent(5)
        (3, 0)
        """
        since = self._clock() - seconds
        with self._lock:
            return sum(1 for t in reversed(self._recent) if t > since) if self._recent else 0

    def fail(self, *subjects: str) -> float:
        """Count one failure for each subject; the lockout it starts (0 when none)."""
        now = self._clock()
        started = 0.0
        with self._lock:
            self._recent.append(now)
            if len(self._fails) > self._max:  # many distinct addresses: forget the quiet ones
                self._forget(now)
            for s in subjects:
                times = self._fails.setdefault(s, deque())
                times.append(now)
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.limit:
                    self._locked[s] = now + self.lockout
                    times.clear()
                    started = float(self.lockout)
        return started

    def _forget(self, now: float) -> None:
        for s in [s for s, t in self._fails.items() if not t or t[-1] <= now - self.window]:
            del self._fails[s]
        for s in [s for s, end in self._locked.items() if end <= now]:
            del self._locked[s]
