"""The summary of one benchmark run: the stage rates, the ratios and the targets.

Every ratio is metric-backfill's speed over the other's, a time ratio (the other's seconds ÷
metric-backfill's on the same work), so > 1 means metric-backfill is faster:
``e2e_over_native`` (chdb start + native statements ÷ one ``run`` process) with its batch-phase,
fixed-cost and per-package parts, ``e2e_over_floor``, ``e2e_over_rowwise`` (extrapolated
row-wise seconds ÷ ``run --packages <it>`` alone), and the scale curve's largest scale ÷ the
next one (events/s and peak RSS).

Invariant: a figure that was not measured is None and its target "not measured", never a
default that would pass or fail it.
"""

from __future__ import annotations

from typing import Any

from .common import rate
from .plans import per_batch_scans
from .setup import Setup


def _sum(d: dict[str, dict], key: str, names: list[str]) -> float:
    return sum(d[n][key] for n in names if n in d)


def summarize(r: dict[str, Any], s: Setup) -> None:
    """The headline figures, ratios and targets (Postgres packages, totals)."""
    summarize_stages(r, s.pg_names)
    summarize_e2e(r, s)
    summarize_rowwise(r, s.rowwise)
    summarize_native(r, s.native)
    ratios: dict[str, Any] = {}
    ratios.update(floor_ratios(r))
    ratios.update(rowwise_ratios(r))
    ratios.update(native_ratios(r, s.native))
    ratios.update(curve_ratios(r, s))
    if r["reader_rows_per_s"] and r["adbc_rows_per_s"]:
        ratios["adbc_over_connectorx"] = r["adbc_rows_per_s"] / r["reader_rows_per_s"]
    r["ratios"] = ratios
    r["targets"] = targets(r)


def summarize_stages(r: dict[str, Any], pg_names: list[str]) -> None:
    pg = r.get("postgres", {})
    rows = _sum(pg, "rows", pg_names)
    events = _sum(pg, "events", pg_names)
    r["floor_rows_per_s"] = rate(rows, _sum(pg, "floor_seconds", pg_names))
    r["floor_batched_rows_per_s"] = rate(rows, _sum(pg, "floor_batched_seconds", pg_names))
    r["reader_rows_per_s"] = rate(rows, _sum(pg, "reader_seconds", pg_names))
    r["adbc_rows_per_s"] = rate(rows, _sum(pg, "adbc_seconds", pg_names))
    r["adbc_equal"] = all(pg[n]["adbc_equal"] for n in pg_names)
    r["transform_events_per_s"] = rate(events, _sum(pg, "transform_seconds", pg_names))
    ins = r.get("insert", {})
    r["insert_events_per_s"] = rate(_sum(ins, "events", pg_names), _sum(ins, "seconds", pg_names))
    r["events_per_row"] = events / rows if rows else None


def summarize_e2e(r: dict[str, Any], s: Setup) -> None:
    """Main-scale end to end, peak RSS and events/s by scale, the concurrency curve."""
    runs = r.get("e2e", {}).get("pg", {})
    big = runs.get(s.key)
    r["e2e_rows_per_s"] = big["rows_per_s"] if big else None
    r["e2e_events_per_s"] = big["events_per_s"] if big else None
    r["peak_rss_mb"] = {k: v["peak_rss_mb"] for k, v in runs.items()}
    r["peak_rss_mb_clickhouse_packages"] = {k: v["peak_rss_mb"] for k, v in r.get("e2e", {}).get("ch", {}).items()}
    r["scale_curve"] = {str(sc): runs[str(sc)]["events_per_s"] for sc in s.curve if str(sc) in runs}
    r["concurrency_curve"] = {c: v["events_per_s"] for c, v in r.get("concurrency_runs", {}).items()}


def summarize_rowwise(r: dict[str, Any], rowwise: list[str]) -> None:
    """Each package's sample rate (per source row) extrapolated to its full table."""
    pg = r.get("postgres", {})
    rw = r.get("rowwise", {})
    names = [n for n in rowwise if n in rw and n in pg and rw[n]["rows"]]
    extrap = {n: pg[n]["rows"] / rate(rw[n]["rows"], rw[n]["seconds"]) for n in names}
    r["rowwise_packages"] = names
    r["rowwise_extrapolated_seconds"] = extrap
    r["rowwise_events_per_s"] = rate(sum(pg[n]["events"] for n in names), sum(extrap.values()))
    r["rowwise_rows_per_s"] = rate(sum(pg[n]["rows"] for n in names), sum(extrap.values()))


def summarize_native(r: dict[str, Any], native: list[str]) -> None:
    """Native events/s (statements alone) and the event check against the transform."""
    pg = r.get("postgres", {})
    h = r.get("headline")
    nat = h["native"]["statements"] if h else {}
    r["native"] = nat
    r["native_events_per_s"] = rate(_sum(nat, "events", native), _sum(nat, "seconds", native))
    r["native_match"] = {n: (nat[n]["events"] == pg[n]["events"] and nat[n]["metric_value_sum"] == pg[n]["metric_value_sum"])
                         for n in native if n in nat and n in pg}
    if h:
        r["native_total_events_per_s"] = rate(_sum(nat, "events", native), h["native"]["total_seconds"])
        r["e2e_cli_events_per_s"] = h["e2e"]["events_per_s"]


def floor_ratios(r: dict[str, Any]) -> dict[str, Any]:
    out = {}
    if r["e2e_events_per_s"] and r["floor_rows_per_s"] and r["events_per_row"]:
        out["e2e_over_floor"] = r["e2e_events_per_s"] / (r["floor_rows_per_s"] * r["events_per_row"])
    if r["e2e_events_per_s"] and r["floor_batched_rows_per_s"] and r["events_per_row"]:
        out["e2e_over_floor_batched"] = r["e2e_events_per_s"] / (r["floor_batched_rows_per_s"] * r["events_per_row"])
    return out


def rowwise_ratios(r: dict[str, Any]) -> dict[str, Any]:
    """Row-wise extrapolated seconds ÷ the same packages alone through the CLI (process wall)."""
    out: dict[str, Any] = {}
    extrap = r["rowwise_extrapolated_seconds"]
    solo = (r.get("headline") or {}).get("solo", {})
    both = [n for n in r["rowwise_packages"] if n in solo and solo[n]["process_seconds"]]
    if both:
        out["e2e_over_rowwise"] = sum(extrap[n] for n in both) / sum(solo[n]["process_seconds"] for n in both)
        out["e2e_over_rowwise_packages"] = both
        out["e2e_over_rowwise_per_package"] = {n: extrap[n] / solo[n]["process_seconds"] for n in both}
    if r["e2e_rows_per_s"] and r["rowwise_rows_per_s"]:
        # all Postgres packages end to end vs the row-wise rate per source row
        out["e2e_rows_over_rowwise_rows"] = r["e2e_rows_per_s"] / r["rowwise_rows_per_s"]
    return out


def native_ratios(r: dict[str, Any], native: list[str]) -> dict[str, Any]:
    """e2e ÷ native as time ratios (native seconds ÷ metric-backfill seconds, same work):
    together (chdb start + statements vs one CLI process), the batch phase vs the statements,
    the fixed costs vs the chdb start, and per package (its statement vs its batch phase alone)."""
    h = r.get("headline")
    if not h:
        return {}
    nat, e2e, solo = h["native"], h["e2e"], h["solo"]
    statements = sum(nat["statements"][n]["seconds"] for n in native)
    out: dict[str, Any] = {}
    if e2e["process_seconds"]:
        out["e2e_over_native"] = nat["total_seconds"] / e2e["process_seconds"]
    if e2e["batch_phase_seconds"]:
        out["e2e_over_native_batch_phase"] = statements / e2e["batch_phase_seconds"]
    if e2e["fixed_seconds"]:
        out["e2e_over_native_fixed_costs"] = nat["chdb_start_seconds"] / e2e["fixed_seconds"]
    out["e2e_over_native_per_package"] = {
        n: nat["statements"][n]["seconds"] / solo[n]["batch_phase_seconds"]
        for n in native if n in solo and solo[n]["batch_phase_seconds"]
    }
    return out


def curve_ratios(r: dict[str, Any], s: Setup) -> dict[str, Any]:
    """events/s and peak RSS at the largest curve scale ÷ at the next one (30 ÷ 10)."""
    curve = [k for k in map(str, s.curve) if k in r["scale_curve"]]
    if len(curve) < 2:
        return {}
    lo, hi = curve[-2], curve[-1]
    out: dict[str, Any] = {"scale_curve_pair": [float(lo), float(hi)]}
    if r["scale_curve"][lo] and r["scale_curve"][hi]:
        out["scale_curve_events_per_s"] = r["scale_curve"][hi] / r["scale_curve"][lo]
    rss = r["peak_rss_mb"]
    if rss.get(lo) and rss.get(hi):
        out["scale_curve_peak_rss"] = rss[hi] / rss[lo]
    return out


def targets(r: dict[str, Any]) -> dict[str, bool | None]:
    ratios = r["ratios"]

    def at_least(key: str, bound: float) -> bool | None:
        return None if ratios.get(key) is None else ratios[key] >= bound

    rss = [*r["peak_rss_mb"].values(), *r["peak_rss_mb_clickhouse_packages"].values()]
    plans = r.get("plans") or {}
    v = r.get("verify")
    return {
        "e2e_over_native >= 1": at_least("e2e_over_native", 1.0),
        "e2e_over_floor >= 0.6": at_least("e2e_over_floor", 0.6),
        "e2e_over_rowwise >= 50": at_least("e2e_over_rowwise", 50),
        "scale curve events/s >= 0.8": at_least("scale_curve_events_per_s", 0.8),
        "scale curve peak RSS <= 1.2": (None if ratios.get("scale_curve_peak_rss") is None
                                        else ratios["scale_curve_peak_rss"] <= 1.2),
        "peak RSS < 1.5 GB": max(rss) < 1500 if rss else None,
        "verify 0 mismatches": (bool(v["ok"]) and v["mismatches"] == 0) if v else None,
        "no whole-table scan of a joined table": (not any(per_batch_scans(p) for p in plans.values())
                                                  if plans else None),
    }
