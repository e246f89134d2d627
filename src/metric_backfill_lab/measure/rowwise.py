"""The row-wise baseline: the reference approach reproduced in Python, on a sample.

psycopg fetches the rows (dict rows), a Python loop builds one dict per metric event, events go
to chdb as ``JSONEachRow`` through clickhouse-connect ``raw_insert``, ``ROWWISE_CHUNK`` events
per insert, each awaited. The rate per source row is extrapolated to the full tables.

Invariant: the builders write, row for row, the events the three packages define, so the
comparison is the same work done a row at a time, not less work (``stored`` counts what chdb
holds afterwards).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .common import now, window

ROWWISE_CHUNK = 500
Event = dict[str, Any]


def _ts(dt: Any) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _event(entity_type: str, entity_id: Any, user_id: Any, metric: str, value: Any, ts: str) -> Event:
    return {"entityType": entity_type, "entityId": entity_id, "userId": user_id,
            "metricType": metric, "metricValue": value, "createdAt": ts}


def _rowwise_buzz_tip(r: dict) -> list[Event]:
    ts, user = _ts(r["createdAt"]), r["fromUserId"]
    out = []
    if r["entityType"] in ("Article", "Image", "Model", "Post"):
        for metric, value in (("tippedCount", 1), ("tippedAmount", r["amount"])):
            out.append(_event(r["entityType"], r["entityId"], user, metric, value, ts))
    for entity, metric, value in ((r["toUserId"], "tippedCount", 1), (r["toUserId"], "tippedAmount", r["amount"]),
                                  (user, "tipsGivenCount", 1), (user, "tipsGivenAmount", r["amount"])):
        out.append(_event("User", entity, user, metric, value, ts))
    return out


def _rowwise_user_engagement(r: dict) -> list[Event]:
    ts, user = _ts(r["createdAt"]), r["userId"]
    if r["type"] == "Follow":
        return [_event("User", r["targetUserId"], user, "followerCount", 1, ts),
                _event("User", user, user, "followingCount", 1, ts)]
    if r["type"] == "Hide":
        return [_event("User", r["targetUserId"], user, "hiddenCount", 1, ts)]
    return []


def _rowwise_image_reaction(r: dict) -> list[Event]:
    ts, user = _ts(r["createdAt"]), r["userId"]
    out = [_event("Image", r["imageId"], user, r["reaction"], 1, ts)]
    if r["postId"] is not None:
        out.append(_event("Post", r["postId"], user, r["reaction"], 1, ts))
        out.append(_event("Post", r["postId"], user, "reactionCount", 1, ts))
    if r["ownerId"] is not None:
        out.append(_event("User", r["ownerId"], user, "reactionCount", 1, ts))
    return out


ROWWISE: dict[str, Callable[[dict], list[Event]]] = {
    "buzz_tip": _rowwise_buzz_tip,
    "user_engagement": _rowwise_user_engagement,
    "image_reaction": _rowwise_image_reaction,
}


class _Inserts:
    """Events gathered ``ROWWISE_CHUNK`` at a time, each chunk one awaited JSONEachRow insert."""

    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table
        self.chunk: list[Event] = []
        self.events = self.inserts = 0
        self.build_seconds = self.insert_seconds = 0.0

    def add(self, events: list[Event]) -> None:
        for e in events:
            self.chunk.append(e)
            self.events += 1
            if len(self.chunk) == ROWWISE_CHUNK:
                self.flush()

    def flush(self) -> None:
        if not self.chunk:
            return
        t1 = now()
        block = "\n".join(json.dumps(e) for e in self.chunk).encode()
        t2 = now()
        self.client.raw_insert(self.table, insert_block=block, fmt="JSONEachRow")
        self.insert_seconds += now() - t2
        self.build_seconds += t2 - t1
        self.inserts += 1
        self.chunk.clear()


def _sample_sql(name: str, pg: str, limit: int) -> str:
    from metric_backfill import registry
    from metric_backfill.sources import PostgresSource, window_sql

    pkg = registry.all_packages()[name]
    order = ", ".join(f'"{c}"' for c in pkg.row_key)
    return (f"SELECT {pkg.columns} FROM {pkg.from_sql} WHERE {window_sql(pkg, PostgresSource(pg), window())} "
            f"ORDER BY {order} LIMIT {int(limit)}")


def measure_rowwise(ch: Any, pg: str, name: str, limit: int) -> dict[str, Any]:
    """The reference, row at a time, on the first ``limit`` rows of package ``name``."""
    import psycopg
    from psycopg.rows import dict_row

    from metric_backfill.target import Target

    table = f"rowwise_{name}"
    Target(ch, table).ensure()
    build = ROWWISE[name]
    t0 = now()
    with psycopg.connect(pg) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_sample_sql(name, pg, limit))
        rows = cur.fetchall()
    t_fetch = now() - t0
    sink = _Inserts(ch.client(), table)
    for row in rows:
        t1 = now()
        events = build(row)
        sink.build_seconds += now() - t1
        sink.add(events)
    sink.flush()
    seconds = now() - t0
    stored = ch.query_rows(f"SELECT count() FROM {table}")[0][0]
    return {"rows": len(rows), "events": sink.events, "stored": int(stored), "inserts": sink.inserts,
            "seconds": seconds, "fetch_seconds": t_fetch, "build_seconds": sink.build_seconds,
            "insert_seconds": sink.insert_seconds}
