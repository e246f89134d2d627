"""RESULTS.md's detail sections: per package, where the batch time went, the ClickHouse
packages, the row-wise baseline, the scale and concurrency curves, verify, the batch query plans
and the notes.

Invariant: as ``render``, a function of ``results.json`` alone; a section whose figures were not
measured (no ClickHouse packages selected, no verify) is left out rather than shown empty.
"""

from __future__ import annotations

from typing import Any

from .common import rate
from .markdown import fmt, md_table, scales


def render_per_package(r: dict[str, Any]) -> list[str]:
    pg = r.get("postgres", {})
    scale = str(r["settings"]["scale"])
    per_e2e = r.get("e2e", {}).get("pg", {}).get(scale, {}).get("packages", {})
    rows = []
    for n in [n for n in r["settings"]["packages"] if n in pg]:
        p = pg[n]
        e = per_e2e.get(n, {})
        ins = r.get("insert", {}).get(n, {})
        rows.append([n, p["rows"], p["events"], fmt(p["events"] / p["rows"], 2) if p["rows"] else "–", p["batches"],
                     rate(p["rows"], p["floor_seconds"]), rate(p["rows"], p["floor_batched_seconds"]),
                     rate(p["rows"], p["reader_seconds"]),
                     rate(p["rows"], p["adbc_seconds"]), rate(p["events"], p["transform_seconds"]),
                     rate(ins.get("events", 0), ins.get("seconds", 0)),
                     rate(e.get("rows", 0), e.get("seconds", 0)), rate(e.get("events", 0), e.get("seconds", 0))])
    return ["## Per Postgres package", "",
            f"rows/s and events/s per stage; end to end from the scale-{scale} run of all packages, "
            "with each package's seconds as the run report gives them (the busy time of its batches: "
            "packages run side by side, so these do not add up to the wall time).", "",
            md_table(["package", "rows", "events", "ev/row", "batches", "floor rows/s",
                      "floor per batch rows/s", "ConnectorX rows/s",
                      "ADBC rows/s", "transform ev/s", "insert ev/s", "e2e rows/s", "e2e ev/s"], rows)]


def render_split(r: dict[str, Any]) -> list[str]:
    scale = str(r["settings"]["scale"])
    per_e2e = r.get("e2e", {}).get("pg", {}).get(scale, {}).get("packages", {})
    split = [(n, p) for n, p in per_e2e.items() if "read_seconds" in p]
    if not split:
        return []
    rows = []
    tot = {"read_seconds": 0.0, "transform_seconds": 0.0, "write_seconds": 0.0}
    for n, p in split:
        busy = p["read_seconds"] + p["transform_seconds"] + p["write_seconds"]
        for k in tot:
            tot[k] += p[k]
        rows.append([n, p["batches"], fmt(p["read_seconds"], 2), fmt(p["transform_seconds"], 2),
                     fmt(p["write_seconds"], 2),
                     *(f"{100 * p[k] / busy:.0f} %" if busy else "–" for k in tot)])
    busy = sum(tot.values())
    rows.append(["**total**", sum(p["batches"] for _, p in split), *(fmt(v, 2) for v in tot.values()),
                 *(f"{100 * v / busy:.0f} %" if busy else "–" for v in tot.values())])
    return ["", f"Where the end-to-end batch time went (scale {scale}, the engine's own per-batch "
                "timers summed per package; transform includes the cast to Arrow, write is the insert):", "",
            md_table(["package", "batches", "read s", "transform s", "write s", "read", "transform", "write"], rows)]


def render_ch(r: dict[str, Any]) -> list[str]:
    if not r.get("clickhouse_packages"):
        return []
    che = r.get("e2e", {}).get("ch", {}).get(str(r["settings"]["scale"]), {})
    rows = []
    for n, p in r["clickhouse_packages"].items():
        e = che.get("packages", {}).get(n, {})
        rows.append([n, p["rows"], p["events"], p["batches"], rate(p["rows"], p["reader_seconds"]),
                     rate(p["events"], p["transform_seconds"]), rate(p["events"], p["insert_seconds"]),
                     rate(e.get("rows", 0), e.get("seconds", 0)), rate(e.get("events", 0), e.get("seconds", 0))])
    lines = ["", "## ClickHouse packages", "",
             "Read with `query_arrow` from chdb, transformed, inserted into another chdb table in the "
             "same process; end to end by the Runner (target = a copy of the chdb source path).", "",
             md_table(["package", "rows", "events", "batches", "reader rows/s", "transform ev/s",
                       "insert ev/s", "e2e rows/s", "e2e ev/s"], rows)]
    if che:
        lines += ["", f"All ClickHouse packages end to end: {fmt(che['rows'])} rows → {fmt(che['events'])} "
                      f"events in {fmt(che['seconds'], 1)} s = {fmt(che['events_per_s'])} events/s."]
    return lines


def render_rowwise(r: dict[str, Any]) -> list[str]:
    rw = r.get("rowwise", {})
    if not rw:
        return []
    pg = r.get("postgres", {})
    solo = (r.get("headline") or {}).get("solo", {})
    rows = []
    for n, x in rw.items():
        full = pg.get(n, {}).get("rows")
        rps = rate(x["rows"], x["seconds"])
        rows.append([n, x["rows"], x["events"], fmt(x["seconds"], 2), fmt(x["fetch_seconds"], 2),
                     fmt(x["build_seconds"], 2), fmt(x["insert_seconds"], 2), rps,
                     rate(x["events"], x["seconds"]),
                     fmt(full / rps, 0) if full and rps else "–",
                     fmt(solo.get(n, {}).get("process_seconds"), 1)])
    return ["", "## Row-wise baseline", "",
            "The reference approach reproduced in Python: `psycopg` fetches the rows (dict rows), a "
            "Python loop builds one dict per metric event, events go to chdb as `JSONEachRow` "
            "through clickhouse-connect `raw_insert`, 500 events per insert, each awaited. Against it: "
            "one `metric-backfill run --packages <one>` process over the full table.", "",
            md_table(["package", "sample rows", "events", "s", "fetch s", "build + JSON s", "insert s",
                      "rows/s", "events/s", "extrapolated s (full table)", "e2e process s (full table)"], rows)]


def render_curves(r: dict[str, Any]) -> list[str]:
    e2e = r.get("e2e", {})
    rows = []
    for group, runs in (("Postgres packages", e2e.get("pg", {})), ("ClickHouse packages", e2e.get("ch", {}))):
        for sc, x in runs.items():
            rows.append([group, sc, x["rows"], x["events"], fmt(x["seconds"], 1), fmt(x.get("batch_phase_seconds"), 1),
                         x["events_per_s"], x["peak_rss_mb"], x["rss_after_imports_mb"]])
    lines = ["", "## Scale curve and memory", "",
             f"Each package set end to end (the Runner in a child, concurrency {r['settings']['concurrency']}) "
             "at every scale, each scale in its own database of the one Postgres cluster. Peak RSS: the "
             "child's `VmHWM` (includes chdb, which runs in-process; the Postgres server is not included).", "",
             md_table(["packages", "scale", "rows", "events", "seconds", "batch phase s", "events/s",
                       "peak RSS MB", "RSS after imports MB"], rows)]
    conc = r.get("concurrency_runs") or {}
    if conc:
        crow = [[c, x["rows"], x["events"], fmt(x["seconds"], 1), fmt(x.get("batch_phase_seconds"), 1),
                 x["events_per_s"], x["peak_rss_mb"], fmt(x.get("cpu_seconds"), 1),
                 "scale curve" if x.get("from_scale_curve") else ""] for c, x in conc.items()]
        lines += ["", "## Concurrency curve", "",
                  f"All Postgres packages end to end at scale {r['settings']['scale']} with `--concurrency` "
                  f"{scales(r['settings']['concurrency_curve'])} (the run at the default concurrency is the "
                  "scale curve's).", "",
                  md_table(["concurrency", "rows", "events", "seconds", "batch phase s", "events/s",
                            "peak RSS MB", "client CPU s", "run"], crow)]
    return lines


def render_verify(r: dict[str, Any]) -> list[str]:
    v = r.get("verify")
    if not v:
        return []
    lines = ["", "## verify after the end-to-end run", "",
             f"`metric-backfill verify --packages <all Postgres packages>` on the target of the "
             f"scale-{v['scale']} end-to-end run above, in its own process.", "",
             md_table(["ok", "mismatches", "metrics", "seconds", "peak RSS MB", "exit"],
                      [[fmt(v["ok"]), fmt(v["mismatches"]), v["metrics"], fmt(v["seconds"], 1),
                        fmt(v["peak_rss_mb"]), v["exit"]]])]
    if v.get("error"):
        lines += ["", "```", str(v["error"]), "```"]
    return lines


def render_plans(r: dict[str, Any]) -> list[str]:
    plans = r.get("plans")
    if not plans:
        return []
    flagged = {n: p["whole_table_scans"] for n, p in plans.items() if p.get("whole_table_scans")}
    lines = ["", "## Batch query plans", "",
             f"`EXPLAIN (COSTS OFF)` of each Postgres package's middle batch query (the engine's batch SQL "
             f"at the package's default batch size) at scale {r['settings']['scale']}. A `Seq Scan` on a "
             "table other than the package's driving table (the first of its FROM) reads a whole joined "
             "table per batch: its cost grows with the data, not with the batch.", ""]
    if flagged:
        lines += ["Whole-table scans of a joined table:", ""]
        lines += [f"- **{n}**: " + "; ".join(f"`{x}`" for x in scans)
                  + (" (its only batch: the batch is the whole table at this scale)" if plans[n]["batches"] == 1 else "")
                  for n, scans in flagged.items()]
    else:
        lines.append("No batch query scans a whole table other than its driving table.")
    for n, p in plans.items():
        lines += ["", f"### {n}", ""]
        if "plan" not in p:
            lines.append("No batch (no rows in the window).")
            continue
        lines += [f"Batch {p['batch']} of {p['batches']} (batch size {p['batch_size']:,}), driving table "
                  f"`{p['driving_table']}`" + (" — **scans a whole joined table**" if n in flagged else "") + ".",
                  "", "```", *p["plan"], "```"]
    return lines


def render_notes(r: dict[str, Any]) -> list[str]:
    s = r["settings"]
    m = r["machine"]
    return ["", "## Notes", "",
            "- Every figure is from this one run over the same seeded data; Postgres was `VACUUM "
            "ANALYZE`d after loading (hint bits set, as on a long-lived replica) and warmed by a "
            "`count(*)` of every package query, so reads come from memory.",
            "- The floor and the readers read the packages one after the other on one thread; the end-to-end "
            f"run overlaps batches (concurrency {s['concurrency']}) on a {m['cores']}-core machine shared "
            "with the Postgres server.",
            "- chdb is single-writer: every chdb call in a process goes through one lock.",
            ""]
