"""PostgreSQL implementation of :class:`~modelmon.store.results.ResultStore`: a part of the
store (``store.results``), the same tables and meanings as the DuckDB part."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from modelmon.exceptions import NotFoundError
from modelmon.store._shared import conform, with_model_column
from modelmon.store.postgres._access import Access
from modelmon.store.postgres._sql import from_rows, unnest_select, window_start_us
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
from modelmon.windows import WindowScheme

__all__ = ["PostgresResults"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DETECTOR_EVENT_SCHEMA = {"event_id": pa.int64(), **DETECTOR_EVENT_COLUMNS}


class PostgresResults:
    """Result storage on the store's PostgreSQL database."""

    def __init__(self, access: Access) -> None:
        self._a = access

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._a.cursor() as cur:
            return cur.execute(sql, list(params)).fetchall()

    def _id(self, model: str) -> int:
        return self._a.entry(model).model_id

    # --- what changed --------------------------------------------------------------------------
    def data_watermarks(self, model: str) -> tuple[datetime | None, datetime | None]:
        rows = self._rows("SELECT predictions_at, actuals_at FROM model_stamps "
                          "WHERE model_id = %s", [self._id(model)])
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def changed_windows(self, model: str, scheme: WindowScheme, *,
                        predictions_since: datetime | None, actuals_since: datetime | None,
                        min_start: datetime | None = None) -> list[datetime]:
        entry = self._a.entry(model)
        bucket_p = window_start_us(scheme, "p.event_time")
        bucket_i = window_start_us(scheme, "i.event_time")
        parts = [f"SELECT DISTINCT {bucket_p} AS b FROM {entry.pred_table} p"
                 + (" WHERE p.received_at > %s" if predictions_since is not None else "")]
        params: list[Any] = [predictions_since] if predictions_since is not None else []
        # Actuals find their window through the id table (it holds each id's event time).
        parts.append(f"SELECT DISTINCT {bucket_i} AS b FROM {entry.act_table} a "
                     f"JOIN {entry.pid_table} i ON a.prediction_id = i.prediction_id"
                     + (" WHERE a.received_at > %s" if actuals_since is not None else ""))
        if actuals_since is not None:
            params.append(actuals_since)
        sql = f"SELECT DISTINCT b FROM ({' UNION '.join(parts)}) t"
        if min_start is not None:
            sql += " WHERE b >= %s"
            params.append((min_start - _EPOCH) // timedelta(microseconds=1))
        sql += " ORDER BY b"
        return [_EPOCH + timedelta(microseconds=int(r[0])) for r in self._rows(sql, params)]

    def event_time_range(self, model: str) -> tuple[datetime | None, datetime | None]:
        entry = self._a.entry(model)
        [(lo, hi)] = self._rows(f"SELECT min(event_time), max(event_time) FROM {entry.pred_table}")
        return lo, hi

    def window_counts(self, model: str, scheme: WindowScheme, *, limit: int = 100) -> list[int]:
        entry = self._a.entry(model)
        bucket = window_start_us(scheme, "event_time")
        sql = (f"SELECT count(*) FROM {entry.pred_table} GROUP BY {bucket} ORDER BY {bucket} "
               f"LIMIT {int(limit)}")
        return [int(r[0]) for r in self._rows(sql)]

    def row_chunks(self, model: str, rows: int, *, predictions_since: datetime | None,
                   actuals_since: datetime | None) -> list[RowChunk]:
        entry = self._a.entry(model)
        width = int(rows)
        params: list[Any] = []
        pnew = "false"
        if predictions_since is not None:
            pnew = "p.received_at > %s"
            params.append(predictions_since)
        anew, actuals = "false", ""
        if actuals_since is not None:
            anew = "a.prediction_id IS NOT NULL"
            actuals = (f" LEFT JOIN (SELECT DISTINCT prediction_id FROM {entry.act_table} "
                       "WHERE received_at > %s) a ON a.prediction_id = p.prediction_id")
            params.append(actuals_since)
        sql = (
            "SELECT k, min(event_time), (array_agg(prediction_id ORDER BY rn))[1], "
            "max(event_time), (array_agg(prediction_id ORDER BY rn DESC))[1], count(*), "
            "bool_or(changed) FROM ("
            f"SELECT p.event_time, p.prediction_id, rn, (rn - 1) / {width} AS k, "
            f"({pnew} OR {anew}) AS changed FROM ("
            "SELECT *, row_number() OVER (ORDER BY event_time, prediction_id) AS rn "
            f"FROM {entry.pred_table}) p{actuals}) c GROUP BY k ORDER BY k")
        return [RowChunk(int(k), t0, str(i0), t1, str(i1), int(n), bool(c))
                for k, t0, i0, t1, i1, n, c in self._rows(sql, params)]

    def delete_window_results(self, model: str, window_size: str,
                              starts: Sequence[datetime]) -> None:
        if not starts:
            return
        model_id = self._id(model)
        with self._a.transaction() as con:
            for table in ("metric_points", "feature_results", "window_aggregates",
                          "window_verdicts"):
                con.execute(f"DELETE FROM {table} WHERE model_id = %s AND window_size = %s "
                            "AND window_start = ANY(%s)", [model_id, window_size, list(starts)])

    def window_starts(self, model: str, window_size: str) -> list[tuple[datetime, datetime]]:
        rows = self._rows("SELECT DISTINCT window_start, window_end FROM metric_points "
                          "WHERE model_id = %s AND window_size = %s AND version = '*' "
                          "AND segment = '*' ORDER BY window_start",
                          [self._id(model), window_size])
        return [(a, b) for a, b in rows]

    def evaluation_state(
        self, model: str
    ) -> tuple[datetime | None, datetime | None, list[tuple[str, datetime, str]], str | None]:
        rows = self._rows("SELECT predictions_seen, actuals_seen, pending FROM evaluation_state "
                          "WHERE model_id = %s", [self._id(model)])
        if not rows:
            return None, None, [], None
        seen_p, seen_a, raw = rows[0]
        state = json.loads(raw)
        items = [(i[0], datetime.fromisoformat(i[1]), i[2]) for i in state["pending"]]
        return seen_p, seen_a, items, state.get("reference")

    def set_evaluation_state(
        self, model: str, predictions_seen: datetime | None, actuals_seen: datetime | None,
        pending: Sequence[tuple[str, datetime, str]] = (), reference: str | None = None,
    ) -> None:
        pend = json.dumps({"pending": [[size, start.isoformat(), kind]
                                       for size, start, kind in pending],
                           "reference": reference})
        with self._a.transaction() as con:
            con.execute(
                "INSERT INTO evaluation_state VALUES (%s, %s, %s, %s, %s) ON CONFLICT (model_id) "
                "DO UPDATE SET predictions_seen = excluded.predictions_seen, actuals_seen = "
                "excluded.actuals_seen, pending = excluded.pending, updated_at = "
                "excluded.updated_at",
                [self._id(model), predictions_seen, actuals_seen, pend, self._a.clock()])

    # --- window results ------------------------------------------------------------------------
    def _insert(self, con: Any, target: str, table: pa.Table, columns: dict[str, pa.DataType],
                model_id: int, stamp_column: str, now: datetime) -> None:
        conformed = conform(table, columns)
        select, params = unnest_select(conformed)
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {target} (model_id, {cols}, {stamp_column}) "
                    f"SELECT %s, t.*, %s FROM ({select}) t", [model_id, now, *params])

    def replace_window_results(self, model: str, results: Sequence[WindowResults]) -> None:
        if not results:
            return
        model_id = self._id(model)
        now = self._a.clock()
        sizes = [r.window_size for r in results]
        starts = [r.window_start for r in results]
        with self._a.transaction() as con:
            for table in ("metric_points", "feature_results", "window_aggregates"):
                con.execute(f"DELETE FROM {table} t USING unnest(%s::text[], %s::timestamptz[]) "
                            "AS k(size, start) WHERE t.model_id = %s AND t.window_size = k.size "
                            "AND t.window_start = k.start", [sizes, starts, model_id])
            points = [r.metric_points for r in results if r.metric_points.num_rows]
            features = [r.feature_results for r in results if r.feature_results.num_rows]
            if points:
                self._insert(con, "metric_points",
                             pa.concat_tables([conform(p, METRIC_POINT_COLUMNS) for p in points]),
                             METRIC_POINT_COLUMNS, model_id, "computed_at", now)
            if features:
                self._insert(con, "feature_results",
                             pa.concat_tables([conform(f, FEATURE_RESULT_COLUMNS)
                                               for f in features]),
                             FEATURE_RESULT_COLUMNS, model_id, "computed_at", now)
            rows = [[model_id, version, segment, r.window_size, r.window_start, blob]
                    for r in results for (version, segment), blob in r.aggregates.items()]
            if rows:
                with con.cursor() as cur:
                    cur.executemany("INSERT INTO window_aggregates VALUES (%s, %s, %s, %s, %s, %s)",
                                    rows)

    def replace_metric_points(self, model: str, window_size: str, window_start: datetime,
                              points: pa.Table) -> None:
        if points.num_rows == 0:
            return
        model_id = self._id(model)
        conformed = conform(points, METRIC_POINT_COLUMNS)
        keys = [conformed.column(c).to_pylist() for c in ("version", "segment", "metric")]
        with self._a.transaction() as con:
            con.execute("DELETE FROM metric_points m USING unnest(%s::text[], %s::text[], "
                        "%s::text[]) AS k(version, segment, metric) WHERE m.model_id = %s "
                        "AND m.window_size = %s AND m.window_start = %s AND m.version = k.version "
                        "AND m.segment = k.segment AND m.metric = k.metric",
                        [*keys, model_id, window_size, window_start])
            self._insert(con, "metric_points", conformed, METRIC_POINT_COLUMNS, model_id,
                         "computed_at", self._a.clock())

    def _series_filter(self, model: str, *, window_size: str | None, version: str | None,
                       segment: str | None, start: datetime | None,
                       end: datetime | None) -> tuple[str, list[Any]]:
        conds = ["model_id = %s"]
        params: list[Any] = [self._id(model)]
        for column, value in (("window_size", window_size), ("version", version),
                              ("segment", segment)):
            if value is not None:
                conds.append(f"{column} = %s")
                params.append(value)
        if start is not None:
            conds.append("window_start >= %s")
            params.append(start)
        if end is not None:
            conds.append("window_start < %s")
            params.append(end)
        return " WHERE " + " AND ".join(conds), params

    def metric_series(self, model: str, *, metrics: Sequence[str] | None = None,
                      window_size: str | None = None, version: str | None = ALL,
                      segment: str | None = ALL, start: datetime | None = None,
                      end: datetime | None = None, limit: int = 100_000) -> pa.Table:
        where, params = self._series_filter(model, window_size=window_size, version=version,
                                            segment=segment, start=start, end=end)
        if metrics:
            where += " AND metric = ANY(%s)"
            params.append(list(metrics))
        sql = (f"SELECT {', '.join(METRIC_POINT_COLUMNS)} FROM metric_points{where} "
               f"ORDER BY window_start, metric LIMIT {int(limit)}")
        return from_rows(self._rows(sql, params), METRIC_POINT_COLUMNS)

    def latest_metric_points(self, model: str, *, window_size: str | None = None) -> pa.Table:
        params: list[Any] = [self._id(model)]
        cond = ""
        if window_size is not None:
            cond = " AND window_size = %s"
            params.append(window_size)
        cols = ", ".join(METRIC_POINT_COLUMNS)
        sql = (f"SELECT {cols} FROM (SELECT DISTINCT ON (version, segment, window_size, metric) "
               f"{cols} FROM metric_points WHERE model_id = %s{cond} ORDER BY version, segment, "
               "window_size, metric, window_start DESC) t "
               "ORDER BY window_size, metric, version, segment")
        return from_rows(self._rows(sql, params), METRIC_POINT_COLUMNS)

    def _ids(self, models: Sequence[str]) -> dict[int, str]:
        return {self._id(m): m for m in models}

    def _named(self, sql: str, params: list[Any], ids: dict[int, str]) -> pa.Table:
        types = {"model_id": pa.int64(), **METRIC_POINT_COLUMNS}
        rows = self._rows(sql, params) if ids else []
        return with_model_column(from_rows(rows, types), ids)

    def latest_points_of(self, models: Sequence[str], *,
                         metrics: Sequence[str] | None = None) -> pa.Table:
        ids = self._ids(models)
        cols = ", ".join(METRIC_POINT_COLUMNS)
        params: list[Any] = [list(ids), ALL, ALL]
        cond = ""
        if metrics:
            cond = " AND metric = ANY(%s)"
            params.append(list(metrics))
        sql = (f"SELECT model_id, {cols} FROM (SELECT DISTINCT ON (model_id, window_size, "
               f"metric) model_id, {cols} FROM metric_points WHERE model_id = ANY(%s) AND "
               f"version = %s AND segment = %s{cond} ORDER BY model_id, window_size, metric, "
               "window_start DESC) t ORDER BY model_id, window_size, metric")
        return self._named(sql, params, ids)

    def recent_points_of(self, windows: Mapping[str, str], *, count: int) -> pa.Table:
        ids = self._ids(list(windows))
        cols = ", ".join(METRIC_POINT_COLUMNS)
        sql = (f"SELECT model_id, {cols} FROM (SELECT model_id, {cols}, dense_rank() OVER "
               "(PARTITION BY model_id ORDER BY window_start DESC) AS r FROM metric_points p "
               "JOIN unnest(%s::int8[], %s::text[]) AS w(mid, size) ON p.model_id = w.mid "
               "AND p.window_size = w.size WHERE version = %s AND segment = %s) t "
               f"WHERE r <= {int(count)} ORDER BY model_id, window_start, metric")
        params = [list(ids), [windows[m] for m in ids.values()], ALL, ALL]
        return self._named(sql, params, ids)

    def statuses(self, models: Sequence[str]) -> dict[str, ModelStatus]:
        ids = self._ids(models)
        if not ids:
            return {}
        rows = self._rows("SELECT model_id, status, reasons, report_id, updated_at FROM "
                          "model_status WHERE model_id = ANY(%s)", [list(ids)])
        return {ids[i]: ModelStatus(ids[i], status, json.loads(reasons), report_id, updated)
                for i, status, reasons, report_id, updated in rows}

    def feature_results(self, model: str, *, window_size: str | None = None,
                        start: datetime | None = None, end: datetime | None = None,
                        feature: str | Sequence[str] | None = None,
                        version: str | None = ALL, segment: str | None = ALL,
                        limit: int = 100_000) -> pa.Table:
        where, params = self._series_filter(model, window_size=window_size, version=version,
                                            segment=segment, start=start, end=end)
        if isinstance(feature, str):
            where += " AND feature = %s"
            params.append(feature)
        elif feature is not None:
            where += " AND feature = ANY(%s)"
            params.append(list(feature))
        sql = (f"SELECT {', '.join(FEATURE_RESULT_COLUMNS)} FROM feature_results{where} "
               f"ORDER BY window_start, feature LIMIT {int(limit)}")
        return from_rows(self._rows(sql, params), FEATURE_RESULT_COLUMNS)

    def window_aggregates(self, model: str, window_size: str, start: datetime,
                          end: datetime) -> list[tuple[str, str, datetime, bytes]]:
        rows = self._rows("SELECT version, segment, window_start, data FROM window_aggregates "
                          "WHERE model_id = %s AND window_size = %s AND window_start >= %s "
                          "AND window_start < %s ORDER BY window_start",
                          [self._id(model), window_size, start, end])
        return [(v, s, w, bytes(d)) for v, s, w, d in rows]

    # --- verdicts ------------------------------------------------------------------------------
    def replace_verdicts(self, model: str, verdicts: Sequence[StoredVerdict]) -> None:
        if not verdicts:
            return
        model_id = self._id(model)
        now = self._a.clock()
        rows = [[model_id, v.window_size, v.window_start, v.window_end, v.complete, v.n,
                 v.status, json.dumps(v.reasons, default=str), now] for v in verdicts]
        with self._a.transaction() as con, con.cursor() as cur:
            cur.executemany(
                "INSERT INTO window_verdicts VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (model_id, window_size, window_start) DO UPDATE SET "
                "window_end = excluded.window_end, complete = excluded.complete, n = excluded.n,"
                " status = excluded.status, reasons = excluded.reasons, "
                "judged_at = excluded.judged_at", rows)

    def verdicts(self, model: str, *, window_size: str | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 status: str | None = None, complete: bool | None = None, limit: int = 1000,
                 newest_first: bool = False) -> list[StoredVerdict]:
        conds = ["model_id = %s"]
        params: list[Any] = [self._id(model)]
        for column, value in (("window_size", window_size), ("status", status),
                              ("complete", complete)):
            if value is not None:
                conds.append(f"{column} = %s")
                params.append(value)
        if start is not None:
            conds.append("window_start >= %s")
            params.append(start)
        if end is not None:
            conds.append("window_start < %s")
            params.append(end)
        order = "DESC" if newest_first else "ASC"
        sql = ("SELECT window_size, window_start, window_end, complete, n, status, reasons, "
               f"judged_at FROM window_verdicts WHERE {' AND '.join(conds)} "
               f"ORDER BY window_start {order}, window_size LIMIT {int(limit)}")
        return [StoredVerdict(size, a, b, bool(c), int(n), st, json.loads(r), j)
                for size, a, b, c, n, st, r, j in self._rows(sql, params)]

    # --- detectors -----------------------------------------------------------------------------
    def detector_states(self, model: str) -> list[DetectorState]:
        rows = self._rows("SELECT version, detector, state, processed, cursor_time, cursor_id "
                          "FROM detector_state WHERE model_id = %s", [self._id(model)])
        return [DetectorState(v, d, bytes(s), int(p), t, c) for v, d, s, p, t, c in rows]

    def save_detector_progress(self, model: str, state: DetectorState,
                               events: pa.Table) -> None:
        model_id = self._id(model)
        now = self._a.clock()
        with self._a.transaction() as con:
            if events.num_rows:
                self._insert(con, "detector_events", events, DETECTOR_EVENT_COLUMNS, model_id,
                             "created_at", now)
            con.execute(
                "INSERT INTO detector_state VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (model_id, version, detector) DO UPDATE SET state = excluded.state,"
                " processed = excluded.processed, cursor_time = excluded.cursor_time, "
                "cursor_id = excluded.cursor_id, updated_at = excluded.updated_at",
                [model_id, state.version, state.detector, state.state, state.processed,
                 state.cursor_time, state.cursor_id, now])

    def detector_events(self, model: str, *, kind: str | None = None,
                        start: datetime | None = None, end: datetime | None = None,
                        limit: int = 1000) -> pa.Table:
        conds = ["model_id = %s"]
        params: list[Any] = [self._id(model)]
        if kind is not None:
            conds.append("kind = %s")
            params.append(kind)
        if start is not None:
            conds.append("event_time >= %s")
            params.append(start)
        if end is not None:
            conds.append("event_time < %s")
            params.append(end)
        sql = (f"SELECT {', '.join(_DETECTOR_EVENT_SCHEMA)} FROM detector_events "
               f"WHERE {' AND '.join(conds)} ORDER BY event_time DESC, event_id DESC "
               f"LIMIT {int(limit)}")
        return from_rows(self._rows(sql, params), _DETECTOR_EVENT_SCHEMA)

    # --- reports, status, references -----------------------------------------------------------
    def save_report(self, model: str, report: dict[str, Any]) -> str:
        window = report.get("window") or {}
        with self._a.transaction() as con:
            con.execute(
                "INSERT INTO reports VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (report_id) DO UPDATE SET model_id = excluded.model_id, "
                "created_at = excluded.created_at, kind = excluded.kind, "
                "window_size = excluded.window_size, window_start = excluded.window_start, "
                "window_end = excluded.window_end, status = excluded.status, "
                "body = excluded.body",
                [report["id"], self._id(model), self._a.clock(), report.get("kind", "evaluation"),
                 window.get("size"), window.get("start"), window.get("end"),
                 report.get("status", "unknown"), json.dumps(report, default=str)])
        return str(report["id"])

    def get_report(self, model: str, report_id: str) -> dict[str, Any]:
        rows = self._rows("SELECT body FROM reports WHERE model_id = %s AND report_id = %s",
                          [self._id(model), report_id])
        if not rows:
            raise NotFoundError(f"model {model!r} has no report {report_id!r}",
                                loc=("report_id",))
        return json.loads(rows[0][0])

    def list_reports(self, model: str, *, limit: int = 50,
                     before: datetime | None = None) -> list[dict[str, Any]]:
        cond = ""
        params: list[Any] = [self._id(model)]
        if before is not None:
            cond = " AND created_at < %s"
            params.append(before)
        rows = self._rows(
            "SELECT report_id, created_at, kind, window_size, window_start, window_end, status "
            f"FROM reports WHERE model_id = %s{cond} ORDER BY created_at DESC LIMIT {int(limit)}",
            params)
        keys = ("id", "created_at", "kind", "window_size", "window_start", "window_end", "status")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            for k in ("created_at", "window_start", "window_end"):
                if item[k] is not None:
                    item[k] = item[k].isoformat()
            out.append(item)
        return out

    def set_status(self, model: str, status: str, reasons: list[dict[str, Any]],
                   report_id: str | None) -> None:
        with self._a.transaction() as con:
            con.execute(
                "INSERT INTO model_status VALUES (%s, %s, %s, %s, %s) ON CONFLICT (model_id) "
                "DO UPDATE SET status = excluded.status, reasons = excluded.reasons, "
                "report_id = excluded.report_id, updated_at = excluded.updated_at",
                [self._id(model), status, json.dumps(reasons, default=str), report_id,
                 self._a.clock()])

    def get_status(self, model: str) -> ModelStatus | None:
        rows = self._rows("SELECT status, reasons, report_id, updated_at FROM model_status "
                          "WHERE model_id = %s", [self._id(model)])
        if not rows:
            return None
        status, reasons, report_id, updated = rows[0]
        return ModelStatus(model, status, json.loads(reasons), report_id, updated)

    def save_reference(self, model: str, revision: int, source: str, n_rows: int,
                       summary: bytes) -> None:
        with self._a.transaction() as con:
            con.execute(
                "INSERT INTO reference_summaries VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (model_id, revision) DO UPDATE SET source = excluded.source, "
                "created_at = excluded.created_at, n_rows = excluded.n_rows, "
                "summary = excluded.summary",
                [self._id(model), revision, source, self._a.clock(), n_rows, summary])

    def get_reference(self, model: str) -> tuple[int, str, bytes] | None:
        rows = self._rows("SELECT revision, source, summary FROM reference_summaries "
                          "WHERE model_id = %s ORDER BY revision DESC LIMIT 1", [self._id(model)])
        if not rows:
            return None
        revision, source, summary = rows[0]
        return int(revision), str(source), bytes(summary)
