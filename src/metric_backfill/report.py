"""Plain-text tables for the terminal: run summary, plan, verify, compare, list."""

from __future__ import annotations

from collections.abc import Sequence

from .compare import CompareReport
from .engine import RunReport
from .legacy import REASONS
from .plan import Plan
from .verify import VerifyReport


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: set[int] | None = None) -> str:
    right = right if right is not None else {i for i in range(1, len(headers))}
    cells = [[_fmt(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths, strict=True)))

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return "" if v is None else str(v)


def run_summary(report: RunReport) -> str:
    """Per package: counts, busy seconds split into read / transform / write, and skips."""
    rows = []
    for name, s in report.stats.items():
        if not s.batches:
            continue
        eps = s.events / s.seconds if s.seconds else 0.0
        rows.append([name, s.rows, s.events, s.batches, round(s.read_s, 2), round(s.transform_s, 2),
                     round(s.write_s, 2), int(eps), sum(s.skipped.values())])
    stats = report.stats.values()
    tot_rows, tot_events = sum(s.rows for s in stats), sum(s.events for s in stats)
    wall = report.wall_s or 0.0
    rows.append(["total (wall clock)", tot_rows, tot_events, sum(s.batches for s in stats),
                 None, None, round(wall, 2), int(tot_events / wall) if wall else None,
                 sum(sum(s.skipped.values()) for s in stats)])
    out = [table(["package", "rows", "events", "batches", "read s", "transform s", "write s",
                  "events/s", "skipped"], rows)]
    reasons = [(n, r, c) for n, s in report.stats.items() for r, c in sorted(s.skipped.items())]
    if reasons:
        out.append("")
        out.append(table(["package", "skipped / substituted (reason)", "count"], reasons, right={2}))
    out.append("")
    rate = f", {tot_rows / wall:,.0f} rows/s, {tot_events / wall:,.0f} events/s" if wall else ""
    out.append(f"plan {report.plan_id}: {report.batches_done}/{report.batches_total} batches done"
               f" in {wall:.1f} s{rate}")
    workers = report.workers
    if set(workers) - {"local"}:  # with threads alone the line would say nothing
        out.append("batches per worker: " + ", ".join(f"{w} {n:,}" for w, n in workers.items()))
    return "\n".join(out)


def plan_table(plan: Plan) -> str:
    rows = []
    for name, p in plan.packages.items():
        per = p.rows // len(p.batches) if p.batches else 0
        rows.append([name, p.key, _key(p.lo), _key(p.hi), p.rows, len(p.batches), per])
    return table(["package", "key", "min", "max", "rows", "batches", "rows/batch"], rows, right={4, 5, 6})


def _key(v: object) -> str:
    from datetime import datetime

    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="milliseconds")
    return _fmt(v)


def verify_table(report: VerifyReport) -> str:
    rows = [
        [m.entity_type, m.metric_type, m.entities, m.expected_total, m.actual_total, m.mismatches,
         m.month_mismatches]
        for m in report.metrics
    ]
    out = [table(["entityType", "metricType", "entities", "expected", "actual", "mismatches",
                  "months off"], rows, right={2, 3, 4, 5, 6})]
    for m in report.metrics:
        if m.mismatches:
            ex = "; ".join(f"{w['entityId']}: expected {w['expected']}, got {w['actual']}" for w in m.worst)
            out.append(f"  {m.name} worst: {ex}")
        if m.month_mismatches:
            months = [s for s in report.months if (s.entity_type, s.metric_type) == (m.entity_type, m.metric_type)
                      and s.expected != s.actual]
            ex = "; ".join(f"{s.month}: expected {s.expected}, got {s.actual}" for s in months[:5])
            out.append(f"  {m.name} months: {ex}")
    out.append("")
    verdict = "OK" if report.ok else "MISMATCH"
    scope = f" (a sample of about {report.sample:,} entities per metric)" if report.sample else ""
    out.append(f"{verdict}: {len(report.metrics)} metrics verified per entity and per month{scope}, "
               f"{report.mismatches} mismatches")
    return "\n".join(out)


def top_entities(report: VerifyReport) -> str:
    rows = []
    for m in report.metrics:
        rows.append([m.name, ", ".join(f"{t['entityId']}={t['value']:,}" for t in m.top)])
    return table(["metric", "largest 5 entities (id=value)"], rows, right=set())


def compare_table(report: CompareReport) -> str:
    """Per metric: entities compared, how many are equal or close, the totals, the relative
    difference and the by-design reason; then the worst entities, the reasons and what was
    not compared; last, the summary line."""
    rows = [[m.name, m.entities, m.equal, pct(m.unequal_pct), m.within, m.only_in_events,
             m.legacy_total, m.events_total, _pct(m.median), _pct(m.p99), ", ".join(m.reasons)]
            for m in report.metrics]
    out = [table(["metric", "compared", "equal", "unequal %", "within 1 %", "only in events",
                  "legacy total", "events total", "median %", "p99 %", "by design"],
                 rows, right=set(range(1, 10)))]
    drifting = [m for m in report.metrics if m.unequal]
    if drifting:
        out += ["", "largest differences (entity id: legacy → events):"]
        out += [f"  {m.name}: " + ", ".join(f"{w['entityId']}: {w['legacy']:,} → {w['events']:,}"
                                           for w in m.worst) for m in drifting]
    used = dict.fromkeys(r for m in report.metrics for r in m.reasons)
    if used:
        out += ["", "by design (SPEC §6):"] + [f"  {r}: {REASONS[r]}" for r in used]
    if report.new_metrics:
        out += ["", f"new metrics, no legacy value to compare: {', '.join(report.new_metrics)}"]
    for why in dict.fromkeys(report.skipped.values()):
        names = [m for m, w in report.skipped.items() if w == why]
        out.append(f"not compared ({why}): {', '.join(names)}")
    out += ["", compare_summary(report)]
    return "\n".join(out)


def compare_summary(report: CompareReport) -> str:
    """The summary line, then the metrics drifting without a known reason (share unequal)."""
    line = report.summary()
    unexplained = sorted((m for m in report.metrics if m.status == "unexplained"),
                         key=lambda m: -m.unequal_pct)
    if unexplained:
        shown = ", ".join(f"{m.name} {pct(m.unequal_pct)} %" for m in unexplained[:8])
        more = f" and {len(unexplained) - 8} more" if len(unexplained) > 8 else ""
        line += f"\n  without a known reason (share of entities unequal): {shown}{more}"
    for m in report.over_max_drift:
        line += (f"\nover --max-drift {report.max_drift:g} %: {m.name} has {m.unequal:,} of "
                 f"{m.entities:,} entities unequal ({pct(m.unequal_pct)} %)")
    return line


def _pct(fraction: float | None) -> str:
    return "" if fraction is None else f"{100 * fraction:,.1f}"


def pct(percent: float) -> str:
    """A share in percent with two decimals, never "0.00" for a share that is not zero (one
    entity in a million unequal must not read as none)."""
    return "<0.01" if 0 < percent < 0.005 else f"{percent:.2f}"
