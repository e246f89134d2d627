"""The ClickHouse-native alternative: chdb reads Postgres itself (``postgresql`` table function)
and explodes rows with ``arrayJoin``, one ``INSERT … SELECT`` per package.

Each run is one child process (kind ``native``): chdb started on a fresh path, timed from
before the ``ClickHouse`` object is made to the answer of its first ``SELECT 1`` (importing
clickhouse-connect and chdb included), then the statements one after the other.

Invariant: the statements emit the same events as the packages; the event count and the
metricValue sum of each are compared with the transform's (``native_match`` in the summary), so
a faster statement that computes less shows as a mismatch.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

from ..bench import median
from ..child import run_child
from .common import now, window

CUTOFF_CH = "toDateTime64('{cutoff}', 3, 'UTC')"
NATIVE_SQL = {
    "buzz_tip": """
SELECT e.1 AS entityType, e.2 AS entityId, fromUserId AS userId, e.3 AS metricType,
       e.4 AS metricValue, createdAt
FROM (
  SELECT fromUserId, createdAt, arrayJoin(arrayConcat(
    if(entityType IN ('Article', 'Image', 'Model', 'Post'),
       [(entityType, entityId, 'tippedCount', 1), (entityType, entityId, 'tippedAmount', amount)], []),
    [('User', toUserId, 'tippedCount', 1), ('User', toUserId, 'tippedAmount', amount),
     ('User', fromUserId, 'tipsGivenCount', 1), ('User', fromUserId, 'tipsGivenAmount', amount)])) AS e
  FROM {pg:BuzzTip} WHERE createdAt < {cutoff})""",
    "user_engagement": """
SELECT 'User' AS entityType, e.1 AS entityId, userId, e.2 AS metricType, 1 AS metricValue, createdAt
FROM (
  SELECT userId, createdAt, arrayJoin(multiIf(
    type = 'Follow', [(targetUserId, 'followerCount'), (userId, 'followingCount')],
    type = 'Hide', [(targetUserId, 'hiddenCount')], [])) AS e
  FROM {pg:UserEngagement} WHERE createdAt < {cutoff})""",
    "image_reaction": """
SELECT e.1 AS entityType, e.2 AS entityId, userId, e.3 AS metricType, 1 AS metricValue, createdAt
FROM (
  SELECT ir.userId AS userId, ir.createdAt AS createdAt, arrayJoin(arrayConcat(
    [('Image', ir.imageId, ir.reaction), ('User', i.userId, 'reactionCount')],
    if(i.postId IS NULL, [],
       [('Post', assumeNotNull(i.postId), ir.reaction), ('Post', assumeNotNull(i.postId), 'reactionCount')])
  )) AS e
  FROM {pg:ImageReaction} AS ir INNER JOIN {pg:Image} AS i ON i.id = ir.imageId
  WHERE ir.createdAt < {cutoff})""",
}


def native_sql(name: str, port: int, db: str) -> str:
    from metric_backfill.sources import ms_text

    cutoff = CUTOFF_CH.format(cutoff=ms_text(window().cutoff))
    sql = NATIVE_SQL[name].replace("{cutoff}", cutoff)
    return re.sub(r"\{pg:(\w+)\}",
                  lambda m: f"postgresql('127.0.0.1:{port}', '{db}', '{m.group(1)}', 'backfill', '')", sql)


def measure_native(ch: Any, port: int, db: str, name: str) -> dict[str, Any]:
    from metric_backfill.target import Target

    table = f"native_{name}"
    Target(ch, table).ensure()
    sql = (f"INSERT INTO {table} (entityType, entityId, userId, metricType, metricValue, createdAt) "
           + native_sql(name, port, db))
    t0 = now()
    ch.command(sql)
    seconds = now() - t0
    events, total = ch.query_rows(f"SELECT count(), toInt64(sum(metricValue)) FROM {table}")[0]
    return {"events": int(events), "metric_value_sum": int(total), "seconds": seconds}


def child_native(spec: dict[str, Any]) -> dict[str, Any]:
    """One chdb start on a fresh path, then the native statements one after the other."""
    from metric_backfill.clickhouse import ClickHouse  # imports neither chdb nor clickhouse-connect

    imported_before = "chdb" in sys.modules
    t0 = now()
    ch = ClickHouse(f"chdb://{spec['ch']}")
    ch.query_rows("SELECT 1")
    start = now() - t0
    statements = {
        name: measure_native(ch, spec["pg_port"], spec["pg_db"], name) for name in spec["native"]
    }
    return {"chdb_start_seconds": start, "chdb_imported_before": imported_before,
            "statements": statements,
            "total_seconds": start + sum(x["seconds"] for x in statements.values())}


def native_runs(work: Path, port: int, db: str, names: list[str], repeat: int) -> dict[str, Any]:
    """``repeat`` children, each: one chdb start on a fresh path, then the native statements;
    the median of every time."""
    runs = []
    for i in range(repeat):
        d = work / "children" / f"native_{i}"
        shutil.rmtree(d, ignore_errors=True)
        runs.append(run_child("native", {"ch": str(d / "ch"), "pg_port": port, "pg_db": db,
                                         "native": names}, d))
        shutil.rmtree(d / "ch", ignore_errors=True)
    statements = {}
    for n in names:
        got = [r["statements"][n] for r in runs]
        statements[n] = {"events": got[0]["events"], "metric_value_sum": got[0]["metric_value_sum"],
                         "seconds": median([x["seconds"] for x in got]),
                         "same_every_run": all(x["events"] == got[0]["events"] for x in got)}
    return {
        "chdb_start_seconds": median([r["chdb_start_seconds"] for r in runs]),
        "total_seconds": median([r["total_seconds"] for r in runs]),
        "chdb_imported_before": any(r["chdb_imported_before"] for r in runs),
        "statements": statements,
        "runs": [{"chdb_start_seconds": r["chdb_start_seconds"], "total_seconds": r["total_seconds"],
                  "statements": {n: r["statements"][n]["seconds"] for n in names}} for r in runs],
    }
