"""Which server does the shared background work: evaluation cycles, alert rules, notification
dispatch and delivery, retention.

Several servers on one PostgreSQL store all ingest and answer queries, but one of them at a
time, the *leader*, runs the background work, so each window is evaluated once, an alert fires
once and a notification goes out once. Leadership is a lease in the store
(:class:`~modelmon.store.postgres.leases.PostgresLeases`): the leader renews it every third of
``ttl``; a leader that dies (or loses the database) stops renewing, and after at most ``ttl``
the next server to try takes over, with a new *term*. A leader whose renewals stall stops
acting as leader after 0.8 ``ttl`` without one (by its own clock, counted from before the
renewal it last sent), before the lease can pass to another server. Work that the old leader had not
committed is done again by the new one (results replace results, so nothing is duplicated; a
notification being sent at the moment of the kill may be sent again: at least once).

One server (the embedded store) is always the leader: :class:`Solo`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

__all__ = ["LEADER_LEASE", "Leadership", "LeaseLeadership", "Leases", "Solo", "server_id"]

log = logging.getLogger("modelmon.coordination")

LEADER_LEASE = "leader"


def server_id() -> str:
    """This server's name in leases: host, process and a random part (a restarted process is
    another owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership(Protocol):
    """Whether this server leads now."""

    def term(self) -> int | None:
        """The current term while this server leads (it changes when leadership is taken
        anew), None while another server leads."""

    def stop(self) -> None:
        """Stop leading (hand the lease over at once)."""


class Leases(Protocol):
    def acquire(self, name: str, owner: str, ttl: timedelta) -> bool: ...

    def release(self, name: str, owner: str) -> None: ...


class Solo:
    """The only server: always the leader, in one term."""

    def term(self) -> int | None:
        return 1

    def stop(self) -> None:
        return None


class LeaseLeadership:
    """Leadership by a lease renewed from a thread of its own (see the module docstring).

    Parameters
    ----------
    leases : Leases
        The store's leases.
    ttl : timedelta
        How long a lease lasts without renewal: a dead leader's work is taken over after at
        most this long.
    owner : str
        This server's name (:func:`server_id` by default).
    """

    def __init__(self, leases: Leases, ttl: timedelta, owner: str | None = None) -> None:
        self.leases = leases
        self.ttl = ttl
        self.owner = owner or server_id()
        self._term: int | None = None
        self._terms = 0
        self._valid_until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Called (from the lease thread) each time this server starts leading.
        self.on_lead: list[Callable[[], None]] = []

    def term(self) -> int | None:
        with self._lock:
            if self._term is not None and time.monotonic() > self._valid_until:
                # no renewal for most of a lease (this process stalled, or the database is
                # slow): stop acting before another server may take the lease over
                return None
            return self._term

    def renew(self) -> int | None:
        """Take or renew the lease now; the term (None: another server leads)."""
        asked = time.monotonic()  # the lease runs from after this: a safe lower bound
        try:
            held = self.leases.acquire(LEADER_LEASE, self.owner, self.ttl)
        except Exception as exc:  # the database is away: stop leading until it is back
            log.warning("leader lease not renewed: %s", exc)
            held = False
        started = False
        with self._lock:
            if held:
                self._valid_until = asked + 0.8 * self.ttl.total_seconds()
            if held and self._term is None:
                self._terms += 1
                self._term = self._terms
                started = True
                log.info("%s leads (term %d)", self.owner, self._term)
            elif not held and self._term is not None:
                log.warning("%s no longer leads", self.owner)
                self._term = None
            term = self._term
        if started:
            for call in list(self.on_lead):
                try:
                    call()
                except Exception:  # one hook's failure never stops leading
                    log.exception("start-of-leadership hook %r failed", call)
        return term

    def start(self) -> LeaseLeadership:
        self.renew()
        self._thread = threading.Thread(target=self._loop, name="modelmon-leader", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            self.renew()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            leading, self._term = self._term is not None, None
        if leading:
            try:
                self.leases.release(LEADER_LEASE, self.owner)
            except Exception as exc:  # it expires by itself
                log.warning("leader lease not released: %s", exc)
