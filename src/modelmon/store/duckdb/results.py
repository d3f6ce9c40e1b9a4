"""DuckDB implementation of :class:`~modelmon.store.results.ResultStore`: a part of the store."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from modelmon.exceptions import NotFoundError
from modelmon.store._shared import conform, with_model_column
from modelmon.store._time import aware, naive_utc, utc_columns
from modelmon.store.base import FIRST_USABLE_TIME, LAST_USABLE_TIME
from modelmon.store.results import (
    ALL,
    DETECTOR_EVENT_COLUMNS,
    FEATURE_RESULT_COLUMNS,
    METRIC_POINT_COLUMNS,
    DetectorState,
    ModelStatus,
    RowChunk,
    StoredVerdict,
    WindowResults,
)

if TYPE_CHECKING:
    from modelmon.store.duckdb._access import Access
    from modelmon.windows import WindowScheme

__all__ = ["DuckDBResults"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(t: datetime) -> int:
    """Microseconds since the epoch (DuckDB's bucket unit)."""
    return (t - _EPOCH) // timedelta(microseconds=1)


class DuckDBResults:
    """:class:`~modelmon.store.results.ResultStore` on the store's DuckDB database (a part,
    ``store.results``, built over the store's :class:`~modelmon.store.duckdb._access.Access`)."""

    def __init__(self, access: Access) -> None:
        self._a = access

    # --- what changed ----------------------------------------------------------------------------
    def data_watermarks(self, model: str) -> tuple[datetime | None, datetime | None]:
        entry = self._a.entry(model)
        if entry.watermarks is None:
            with self._a.cursor() as cur:
                p = cur.execute(f"SELECT max(received_at) FROM {entry.pred_table}").fetchall()[0][0]
                a = cur.execute(f"SELECT max(received_at) FROM {entry.act_table}").fetchall()[0][0]
            entry.watermarks = (aware(p), aware(a))
        return entry.watermarks

    def changed_windows(
        self, model: str, scheme: WindowScheme, *,
        predictions_since: datetime | None, actuals_since: datetime | None,
        min_start: datetime | None = None,
    ) -> list[datetime]:
        entry = self._a.entry(model)
        bucket = scheme.sql_start("p.event_time")
        parts: list[str] = []
        params: list[Any] = []
        cond = " WHERE p.received_at > ?" if predictions_since is not None else ""
        parts.append(f"SELECT DISTINCT {bucket} AS b FROM {entry.pred_table} p{cond}")
        if predictions_since is not None:
            params.append(naive_utc(predictions_since))
        acond = " WHERE a.received_at > ?" if actuals_since is not None else ""
        parts.append(
            f"SELECT DISTINCT {bucket} AS b FROM {entry.act_table} a "
            f"JOIN {entry.pred_table} p ON a.prediction_id = p.prediction_id{acond}"
        )
        if actuals_since is not None:
            params.append(naive_utc(actuals_since))
        # Buckets outside the usable years (a row stored before event times were checked)
        # would be no datetime: such rows are passed by.
        low = FIRST_USABLE_TIME if min_start is None else max(min_start, FIRST_USABLE_TIME)
        where = " WHERE b >= ? AND b <= ?"
        params += [_micros(low), _micros(LAST_USABLE_TIME)]
        sql = f"SELECT b FROM ({' UNION '.join(parts)}){where} ORDER BY b"
        with self._a.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [_EPOCH + timedelta(microseconds=int(r[0])) for r in rows]

    def event_time_range(self, model: str) -> tuple[datetime | None, datetime | None]:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            lo, hi = cur.execute(
                f"SELECT min(event_time), max(event_time) FROM {entry.pred_table} "
                f"WHERE event_time BETWEEN ? AND ?",  # the usable years only (see changed_windows)
                [naive_utc(FIRST_USABLE_TIME), naive_utc(LAST_USABLE_TIME)]).fetchall()[0]
        return aware(lo), aware(hi)

    def window_counts(self, model: str, scheme: WindowScheme, *, limit: int = 100) -> list[int]:
        entry = self._a.entry(model)
        sql_start = scheme.sql_start("event_time")
        sql = (f"SELECT count(*) FROM {entry.pred_table} GROUP BY {sql_start} "
               f"ORDER BY {sql_start} LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            return [int(r[0]) for r in cur.execute(sql).fetchall()]

    def row_chunks(
        self, model: str, rows: int, *,
        predictions_since: datetime | None, actuals_since: datetime | None,
    ) -> list[RowChunk]:
        entry = self._a.entry(model)
        width = int(rows)
        params: list[Any] = []
        pnew = "FALSE"
        if predictions_since is not None:
            pnew = "p.received_at > ?"
            params.append(naive_utc(predictions_since))
        anew = "FALSE"
        if actuals_since is not None:
            anew = "a.received_at IS NOT NULL"
        inner = f"SELECT p.* FROM {entry.pred_table} p"
        if entry.read_dedupe:
            inner += " QUALIFY row_number() OVER (PARTITION BY p.prediction_id ORDER BY p.received_at) = 1"
        actuals = ""
        if actuals_since is not None:
            actuals = (f" LEFT JOIN (SELECT prediction_id, max(received_at) AS received_at FROM "
                       f"{entry.act_table} WHERE received_at > ? GROUP BY prediction_id) a "
                       "ON a.prediction_id = p.prediction_id")
            params.append(naive_utc(actuals_since))
        sql = (
            "SELECT k, min(event_time), arg_min(prediction_id, rn), max(event_time), "
            "arg_max(prediction_id, rn), count(*), bool_or(changed) FROM ("
            f"SELECT p.event_time, p.prediction_id, rn, (rn - 1) // {width} AS k, "
            f"({pnew} OR {anew}) AS changed FROM ("
            "SELECT *, row_number() OVER (ORDER BY event_time, prediction_id) AS rn "
            f"FROM ({inner})) p{actuals}) GROUP BY k ORDER BY k"
        )
        with self._a.parallel(), self._a.cursor() as cur:
            got = cur.execute(sql, params).fetchall()
        return [RowChunk(int(k), aware(t0), str(i0), aware(t1), str(i1), int(n), bool(c))
                for k, t0, i0, t1, i1, n, c in got]

    def delete_window_results(self, model: str, window_size: str,
                              starts: Sequence[datetime]) -> None:
        if not starts:
            return
        entry = self._a.entry(model)
        keys = pa.table({"window_start": pa.array([naive_utc(s) for s in starts],
                                                  pa.timestamp("us"))})
        with self._a.lock, self._a.transaction() as con:
            con.register("_del_keys", keys)
            try:
                for table in ("metric_points", "feature_results", "window_aggregates",
                              "window_verdicts"):
                    con.execute(
                        f"DELETE FROM {table} t USING _del_keys k WHERE t.model_id = ? "
                        "AND t.window_size = ? AND t.window_start = k.window_start",
                        [entry.model_id, window_size])
            finally:
                con.unregister("_del_keys")

    def window_starts(self, model: str, window_size: str) -> list[tuple[datetime, datetime]]:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT DISTINCT window_start, window_end FROM metric_points WHERE model_id = ? "
                "AND window_size = ? AND version = '*' AND segment = '*' ORDER BY window_start",
                [entry.model_id, window_size]).fetchall()
        return [(aware(a), aware(b)) for a, b in rows]

    def evaluation_state(
        self, model: str
    ) -> tuple[datetime | None, datetime | None, list[tuple[str, datetime, str]], str | None]:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT predictions_seen, actuals_seen, pending FROM evaluation_state "
                "WHERE model_id = ?", [entry.model_id],
            ).fetchall()
        if not rows:
            return None, None, [], None
        seen_p, seen_a, raw = rows[0]
        state = json.loads(raw)
        if isinstance(state, list):  # written before the reference key was kept
            state = {"pending": state, "reference": None}
        items = [(item[0], datetime.fromisoformat(item[1]), item[2] if len(item) > 2 else "evaluate")
                 for item in state["pending"]]
        return aware(seen_p), aware(seen_a), items, state.get("reference")

    def set_evaluation_state(
        self, model: str, predictions_seen: datetime | None,
        actuals_seen: datetime | None, pending: Sequence[tuple[str, datetime, str]] = (),
        reference: str | None = None,
    ) -> None:
        entry = self._a.entry(model)
        pend = json.dumps({"pending": [[size, start.isoformat(), kind]
                                       for size, start, kind in pending],
                           "reference": reference})
        with self._a.lock, self._a.transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO evaluation_state VALUES (?, ?, ?, ?, ?)",
                [entry.model_id, naive_utc(predictions_seen), naive_utc(actuals_seen), pend,
                 naive_utc(self._a.clock())],
            )

    # --- window results --------------------------------------------------------------------------
    def replace_window_results(self, model: str, results: Sequence[WindowResults]) -> None:
        if not results:
            return
        entry = self._a.entry(model)
        now = naive_utc(self._a.clock())
        keys = pa.table({"window_size": [r.window_size for r in results],
                         "window_start": pa.array([naive_utc(r.window_start) for r in results],
                                                  pa.timestamp("us"))})
        with self._a.lock, self._a.transaction() as con:
            con.register("_win_keys", keys)
            try:
                # One delete per table for all the windows (a delete per window rescans).
                for table in ("metric_points", "feature_results", "window_aggregates"):
                    con.execute(
                        f"DELETE FROM {table} t USING _win_keys k WHERE t.model_id = ? "
                        "AND t.window_size = k.window_size AND t.window_start = k.window_start",
                        [entry.model_id],
                    )
            finally:
                con.unregister("_win_keys")
            points = [conform(r.metric_points, METRIC_POINT_COLUMNS) for r in results
                      if r.metric_points.num_rows]
            features = [conform(r.feature_results, FEATURE_RESULT_COLUMNS) for r in results
                        if r.feature_results.num_rows]
            for target, tables, columns in (("metric_points", points, METRIC_POINT_COLUMNS),
                                            ("feature_results", features, FEATURE_RESULT_COLUMNS)):
                if not tables:
                    continue
                con.register("_res_in", pa.concat_tables(tables))
                try:
                    cols = ", ".join(columns)
                    con.execute(
                        f"INSERT INTO {target} (model_id, {cols}, computed_at) "
                        f"SELECT ?, {cols}, ? FROM _res_in", [entry.model_id, now],
                    )
                finally:
                    con.unregister("_res_in")
            for res in results:
                for (version, segment), blob in res.aggregates.items():
                    con.execute(
                        "INSERT INTO window_aggregates VALUES (?, ?, ?, ?, ?, ?)",
                        [entry.model_id, version, segment, res.window_size,
                         naive_utc(res.window_start), blob],
                    )

    def replace_metric_points(
        self, model: str, window_size: str, window_start: datetime, points: pa.Table
    ) -> None:
        """Replace just these points (same version, segment and metric) of one window."""
        if points.num_rows == 0:
            return
        entry = self._a.entry(model)
        now = naive_utc(self._a.clock())
        conformed = conform(points, METRIC_POINT_COLUMNS)
        with self._a.lock, self._a.transaction() as con:
            con.register("_pts_in", conformed)
            try:
                con.execute(
                    "DELETE FROM metric_points m USING _pts_in p WHERE m.model_id = ? "
                    "AND m.window_size = ? AND m.window_start = ? AND m.version = p.version "
                    "AND m.segment = p.segment AND m.metric = p.metric",
                    [entry.model_id, window_size, naive_utc(window_start)],
                )
                cols = ", ".join(METRIC_POINT_COLUMNS)
                con.execute(f"INSERT INTO metric_points (model_id, {cols}, computed_at) "
                            f"SELECT ?, {cols}, ? FROM _pts_in", [entry.model_id, now])
            finally:
                con.unregister("_pts_in")

    def _series_filter(
        self, model: str, *, window_size: str | None, version: str | None, segment: str | None,
        start: datetime | None, end: datetime | None,
    ) -> tuple[str, list[Any]]:
        entry = self._a.entry(model)
        conds: list[str] = ["model_id = ?"]
        params: list[Any] = [entry.model_id]
        if window_size is not None:
            conds.append("window_size = ?")
            params.append(window_size)
        if version is not None:
            conds.append("version = ?")
            params.append(version)
        if segment is not None:
            conds.append("segment = ?")
            params.append(segment)
        if start is not None:
            conds.append("window_start >= ?")
            params.append(naive_utc(start))
        if end is not None:
            conds.append("window_start < ?")
            params.append(naive_utc(end))
        return " WHERE " + " AND ".join(conds), params

    def metric_series(
        self, model: str, *, metrics: Sequence[str] | None = None,
        window_size: str | None = None, version: str | None = ALL, segment: str | None = ALL,
        start: datetime | None = None, end: datetime | None = None, limit: int = 100_000,
    ) -> pa.Table:
        where, params = self._series_filter(model, window_size=window_size, version=version,
                                            segment=segment, start=start, end=end)
        if metrics:
            where += f" AND metric IN ({', '.join('?' for _ in metrics)})"
            params.extend(metrics)
        cols = ", ".join(METRIC_POINT_COLUMNS)
        sql = (f"SELECT {cols} FROM metric_points{where} ORDER BY window_start, metric "
               f"LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            return conform(utc_columns(cur.sql(sql, params=params).to_arrow_table()), METRIC_POINT_COLUMNS)

    def latest_metric_points(self, model: str, *, window_size: str | None = None) -> pa.Table:
        entry = self._a.entry(model)
        params: list[Any] = [entry.model_id]
        cond = ""
        if window_size is not None:
            cond = " AND window_size = ?"
            params.append(window_size)
        cols = ", ".join(METRIC_POINT_COLUMNS)
        sql = (f"SELECT {cols} FROM metric_points WHERE model_id = ?{cond} "
               "QUALIFY row_number() OVER (PARTITION BY version, segment, window_size, metric "
               "ORDER BY window_start DESC) = 1 ORDER BY window_size, metric, version, segment")
        with self._a.cursor() as cur:
            return conform(utc_columns(cur.sql(sql, params=params).to_arrow_table()), METRIC_POINT_COLUMNS)

    def _ids(self, models: Sequence[str]) -> dict[int, str]:
        return {self._a.entry(m).model_id: m for m in models}

    def _named(self, sql: str, params: list[Any], ids: dict[int, str]) -> pa.Table:
        if not ids:
            return with_model_column(pa.table({"model_id": pa.array([], pa.int64())}), ids)
        with self._a.cursor() as cur:
            return with_model_column(utc_columns(cur.sql(sql, params=params).to_arrow_table()),
                                     ids)

    def latest_points_of(self, models: Sequence[str], *,
                         metrics: Sequence[str] | None = None) -> pa.Table:
        ids = self._ids(models)
        params: list[Any] = [*ids, ALL, ALL]
        cond = ""
        if metrics:
            cond = f" AND metric IN ({', '.join('?' for _ in metrics)})"
            params.extend(metrics)
        sql = (f"SELECT model_id, {', '.join(METRIC_POINT_COLUMNS)} FROM metric_points WHERE "
               f"model_id IN ({', '.join('?' for _ in ids) or 'NULL'}) AND version = ? AND "
               f"segment = ?{cond} QUALIFY row_number() OVER (PARTITION BY model_id, "
               "window_size, metric ORDER BY window_start DESC) = 1 "
               "ORDER BY model_id, window_size, metric")
        return self._named(sql, params, ids)

    def recent_points_of(self, windows: Mapping[str, str], *, count: int) -> pa.Table:
        ids = self._ids(list(windows))
        pairs = " OR ".join("(model_id = ? AND window_size = ?)" for _ in ids) or "false"
        params: list[Any] = [v for i, m in ids.items() for v in (i, windows[m])]
        sql = (f"SELECT model_id, {', '.join(METRIC_POINT_COLUMNS)} FROM metric_points "
               f"WHERE ({pairs}) AND version = ? AND segment = ? QUALIFY dense_rank() OVER "
               f"(PARTITION BY model_id ORDER BY window_start DESC) <= {int(count)} "
               "ORDER BY model_id, window_start, metric")
        return self._named(sql, [*params, ALL, ALL], ids)

    def statuses(self, models: Sequence[str]) -> dict[str, ModelStatus]:
        ids = self._ids(models)
        if not ids:
            return {}
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT model_id, status, reasons, report_id, updated_at FROM model_status "
                f"WHERE model_id IN ({', '.join('?' for _ in ids)})", list(ids)).fetchall()
        return {ids[i]: ModelStatus(ids[i], status, json.loads(reasons), report_id,
                                    aware(updated))
                for i, status, reasons, report_id, updated in rows}

    def feature_results(
        self, model: str, *, window_size: str | None = None,
        start: datetime | None = None, end: datetime | None = None,
        feature: str | Sequence[str] | None = None,
        version: str | None = ALL, segment: str | None = ALL, limit: int = 100_000,
    ) -> pa.Table:
        where, params = self._series_filter(model, window_size=window_size, version=version,
                                            segment=segment, start=start, end=end)
        if isinstance(feature, str):
            where += " AND feature = ?"
            params.append(feature)
        elif feature is not None:
            names = list(feature) or [""]
            where += f" AND feature IN ({', '.join('?' for _ in names)})"
            params.extend(names)
        cols = ", ".join(FEATURE_RESULT_COLUMNS)
        sql = (f"SELECT {cols} FROM feature_results{where} ORDER BY window_start, feature "
               f"LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            return conform(utc_columns(cur.sql(sql, params=params).to_arrow_table()),
                            FEATURE_RESULT_COLUMNS)

    def window_aggregates(
        self, model: str, window_size: str, start: datetime, end: datetime,
    ) -> list[tuple[str, str, datetime, bytes]]:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT version, segment, window_start, data FROM window_aggregates "
                "WHERE model_id = ? AND window_size = ? AND window_start >= ? AND window_start < ? "
                "ORDER BY window_start",
                [entry.model_id, window_size, naive_utc(start), naive_utc(end)],
            ).fetchall()
        return [(v, s, aware(w), bytes(d)) for v, s, w, d in rows]

    # --- verdicts --------------------------------------------------------------------------------
    def replace_verdicts(self, model: str, verdicts: Sequence[StoredVerdict]) -> None:
        if not verdicts:
            return
        entry = self._a.entry(model)
        now = naive_utc(self._a.clock())
        rows = [[entry.model_id, v.window_size, naive_utc(v.window_start), naive_utc(v.window_end),
                 v.complete, v.n, v.status, json.dumps(v.reasons, default=str), now]
                for v in verdicts]
        with self._a.lock, self._a.transaction() as con:
            con.executemany("INSERT OR REPLACE INTO window_verdicts VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def verdicts(
        self, model: str, *, window_size: str | None = None, start: datetime | None = None,
        end: datetime | None = None, status: str | None = None, complete: bool | None = None,
        limit: int = 1000, newest_first: bool = False,
    ) -> list[StoredVerdict]:
        entry = self._a.entry(model)
        conds: list[str] = ["model_id = ?"]
        params: list[Any] = [entry.model_id]
        for column, value in (("window_size", window_size), ("status", status),
                              ("complete", complete)):
            if value is not None:
                conds.append(f"{column} = ?")
                params.append(value)
        if start is not None:
            conds.append("window_start >= ?")
            params.append(naive_utc(start))
        if end is not None:
            conds.append("window_start < ?")
            params.append(naive_utc(end))
        order = "DESC" if newest_first else "ASC"
        sql = ("SELECT window_size, window_start, window_end, complete, n, status, reasons, "
               f"judged_at FROM window_verdicts WHERE {' AND '.join(conds)} "
               f"ORDER BY window_start {order}, window_size LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [StoredVerdict(size, aware(a), aware(b), bool(c), int(n), st, json.loads(r),
                              aware(j)) for size, a, b, c, n, st, r, j in rows]

    # --- detectors -------------------------------------------------------------------------------
    def detector_states(self, model: str) -> list[DetectorState]:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT version, detector, state, processed, cursor_time, cursor_id "
                "FROM detector_state WHERE model_id = ?", [entry.model_id],
            ).fetchall()
        return [DetectorState(v, d, bytes(s), int(p), aware(t), c) for v, d, s, p, t, c in rows]

    def save_detector_progress(self, model: str, state: DetectorState, events: pa.Table) -> None:
        entry = self._a.entry(model)
        now = naive_utc(self._a.clock())
        with self._a.lock, self._a.transaction() as con:
            if events.num_rows:
                con.register("_ev_in", conform(events, DETECTOR_EVENT_COLUMNS))
                try:
                    cols = ", ".join(DETECTOR_EVENT_COLUMNS)
                    con.execute(
                        f"INSERT INTO detector_events (model_id, {cols}, created_at) "
                        f"SELECT ?, {cols}, ? FROM _ev_in", [entry.model_id, now],
                    )
                finally:
                    con.unregister("_ev_in")
            con.execute(
                "INSERT OR REPLACE INTO detector_state VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [entry.model_id, state.version, state.detector, state.state, state.processed,
                 naive_utc(state.cursor_time), state.cursor_id, now],
            )

    def detector_events(
        self, model: str, *, kind: str | None = None, start: datetime | None = None,
        end: datetime | None = None, limit: int = 1000,
    ) -> pa.Table:
        entry = self._a.entry(model)
        conds: list[str] = ["model_id = ?"]
        params: list[Any] = [entry.model_id]
        if kind is not None:
            conds.append("kind = ?")
            params.append(kind)
        if start is not None:
            conds.append("event_time >= ?")
            params.append(naive_utc(start))
        if end is not None:
            conds.append("event_time < ?")
            params.append(naive_utc(end))
        sql = (f"SELECT event_id, {', '.join(DETECTOR_EVENT_COLUMNS)} FROM detector_events "
               f"WHERE {' AND '.join(conds)} ORDER BY event_time DESC, event_id DESC "
               f"LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            return utc_columns(cur.sql(sql, params=params).to_arrow_table())

    # --- reports, status, references -------------------------------------------------------------
    def save_report(self, model: str, report: dict[str, Any]) -> str:
        entry = self._a.entry(model)
        window = report.get("window") or {}
        with self._a.lock, self._a.transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [report["id"], entry.model_id, naive_utc(self._a.clock()), report.get("kind", "evaluation"),
                 window.get("size"), window.get("start"), window.get("end"),
                 report.get("status", "unknown"), json.dumps(report, default=str)],
            )
        return str(report["id"])

    def get_report(self, model: str, report_id: str) -> dict[str, Any]:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute("SELECT body FROM reports WHERE model_id = ? AND report_id = ?",
                               [entry.model_id, report_id]).fetchall()
        if not rows:
            raise NotFoundError(f"model {model!r} has no report {report_id!r}", loc=("report_id",))
        return json.loads(rows[0][0])

    def list_reports(
        self, model: str, *, limit: int = 50, before: datetime | None = None
    ) -> list[dict[str, Any]]:
        entry = self._a.entry(model)
        cond = ""
        params: list[Any] = [entry.model_id]
        if before is not None:
            cond = " AND created_at < ?"
            params.append(naive_utc(before))
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT report_id, created_at, kind, window_size, window_start, window_end, status "
                f"FROM reports WHERE model_id = ?{cond} ORDER BY created_at DESC LIMIT {int(limit)}",
                params,
            ).fetchall()
        keys = ("id", "created_at", "kind", "window_size", "window_start", "window_end", "status")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            for k in ("created_at", "window_start", "window_end"):
                if item[k] is not None:
                    item[k] = aware(item[k]).isoformat()
            out.append(item)
        return out

    def set_status(self, model: str, status: str, reasons: list[dict[str, Any]],
                   report_id: str | None) -> None:
        entry = self._a.entry(model)
        with self._a.lock, self._a.transaction() as con:
            con.execute("INSERT OR REPLACE INTO model_status VALUES (?, ?, ?, ?, ?)",
                        [entry.model_id, status, json.dumps(reasons, default=str), report_id,
                         naive_utc(self._a.clock())])

    def get_status(self, model: str) -> ModelStatus | None:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT status, reasons, report_id, updated_at FROM model_status WHERE model_id = ?",
                [entry.model_id],
            ).fetchall()
        if not rows:
            return None
        status, reasons, report_id, updated = rows[0]
        return ModelStatus(model, status, json.loads(reasons), report_id, aware(updated))

    def save_reference(self, model: str, revision: int, source: str, n_rows: int,
                       summary: bytes) -> None:
        entry = self._a.entry(model)
        with self._a.lock, self._a.transaction() as con:
            con.execute("INSERT OR REPLACE INTO reference_summaries VALUES (?, ?, ?, ?, ?, ?)",
                        [entry.model_id, revision, source, naive_utc(self._a.clock()), n_rows, summary])

    def get_reference(self, model: str) -> tuple[int, str, bytes] | None:
        entry = self._a.entry(model)
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT revision, source, summary FROM reference_summaries WHERE model_id = ? "
                "ORDER BY revision DESC LIMIT 1", [entry.model_id],
            ).fetchall()
        if not rows:
            return None
        revision, source, summary = rows[0]
        return int(revision), str(source), bytes(summary)
