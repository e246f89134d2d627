"""The plan: every package's key range cut into half-open batches, saved before any write.

A batch is ``[lo, hi)`` on the package's key; the first batch is open below and the last open
above, so every row in the window falls in exactly one batch even if keys move between
planning and reading; rows with a NULL key get one dedicated batch. The plan carries a
fingerprint of every option that changes the output: a resume with other options is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .durable import write_atomic
from .errors import UserError
from .events import Window
from .package import Package
from .sources import KeyValue, Source, batch_sql, probe_sql

PLAN_FILE = "plan.json"
PLAN_COPY = "plan.copy.json"


@dataclass(frozen=True)
class Batch:
    package: str
    index: int
    lo: KeyValue | None
    hi: KeyValue | None
    null_key: bool = False

    @property
    def id(self) -> str:
        return f"{self.package}:{self.index}"

    def sql(self, pkg: Package, src: Source, window: Window) -> str:
        return batch_sql(pkg, src, window, self.lo, self.hi, self.null_key)


@dataclass
class PackagePlan:
    package: str
    key: str
    key_kind: str
    rows: int
    lo: KeyValue | None
    hi: KeyValue | None
    batches: list[Batch] = field(default_factory=list)


@dataclass
class Plan:
    plan_id: str
    fingerprint: str
    options: dict
    packages: dict[str, PackagePlan]
    created: str
    recovered: bool = False
    """Loaded from the copy because plan.json was unreadable."""

    @property
    def saved_at(self) -> float:
        return datetime.fromisoformat(self.created.replace("Z", "+00:00")).timestamp()

    def all_batches(self) -> list[Batch]:
        return [b for p in self.packages.values() for b in p.batches]

    # --- persistence -------------------------------------------------------------------
    def save(self, state: Path) -> None:
        """plan.json and an identical copy, each checksummed and written atomically: a damaged
        plan can be recovered without planning anew (which would re-insert under new tokens)."""
        state.mkdir(parents=True, exist_ok=True)
        doc = {
            "plan_id": self.plan_id,
            "fingerprint": self.fingerprint,
            "options": self.options,
            "created": self.created,
            "packages": {
                name: {
                    **{k: _enc(v) for k, v in asdict(p).items() if k != "batches"},
                    "batches": [[_enc(b.lo), _enc(b.hi), b.null_key] for b in p.batches],
                }
                for name, p in self.packages.items()
            },
        }
        doc["checksum"] = checksum(doc)
        for name in (PLAN_FILE, PLAN_COPY):
            write_atomic(state / name, json.dumps(doc, indent=1))

    @classmethod
    def load(cls, state: Path) -> Plan | None:
        """The saved plan, proven by its checksum and contiguous batches; from the copy if
        plan.json is unreadable (``recovered`` is then True). None if there is no plan."""
        path, copy = state / PLAN_FILE, state / PLAN_COPY
        if not path.exists() and not copy.exists():
            return None
        doc, recovered = _read(path), False
        if doc is None:
            doc, recovered = _read(copy), True
            if doc is None:
                raise UserError(
                    f"{path} and its copy {PLAN_COPY} are both damaged: restore one from a "
                    "backup (planning anew would insert the finished batches again)")
            write_atomic(path, json.dumps(doc, indent=1))
        if doc.get("checksum") != checksum({k: v for k, v in doc.items() if k != "checksum"}):
            raise UserError(
                f"{path} does not match its checksum (edited, or made by an older version): "
                f"refused; if it was damaged, replace it with its copy {PLAN_COPY}")
        plan = cls._decode(doc, path)
        plan.recovered = recovered
        return plan

    @classmethod
    def _decode(cls, doc: dict, path: Path) -> Plan:
        try:
            packages = {}
            for name, p in doc["packages"].items():
                pp = PackagePlan(
                    package=name, key=p["key"], key_kind=p["key_kind"], rows=p["rows"],
                    lo=_dec(p["lo"]), hi=_dec(p["hi"]),
                )
                pp.batches = [
                    Batch(name, i, _dec(lo), _dec(hi), bool(nk))
                    for i, (lo, hi, nk) in enumerate(p["batches"])
                ]
                _check_contiguous(pp, path)
                packages[name] = pp
            return cls(doc["plan_id"], doc["fingerprint"], doc["options"], packages, doc["created"])
        except (ValueError, KeyError, TypeError) as e:
            raise UserError(f"{path} is not a readable plan ({e})") from e


def checksum(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _read(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _check_contiguous(pp: PackagePlan, path: Path) -> None:
    """Every key in exactly one batch: open ends, each batch starting where the last ended,
    at most one NULL-key batch, last."""
    keyed = [b for b in pp.batches if not b.null_key]
    nulls = [b for b in pp.batches if b.null_key]
    ok = len(nulls) <= 1 and (not nulls or pp.batches[-1].null_key)
    if keyed:
        ok = ok and keyed[0].lo is None and keyed[-1].hi is None
        ok = ok and all(a.hi is not None and a.hi == b.lo for a, b in zip(keyed, keyed[1:], strict=False))
        ok = ok and all(b.lo < b.hi for b in keyed if b.lo is not None and b.hi is not None)  # type: ignore[operator]
    if not ok:
        raise UserError(f"{path}: the batches of {pp.package} are not contiguous (gap or overlap): refused")


def _enc(v: object) -> object:
    return {"t": v.isoformat(timespec="milliseconds")} if isinstance(v, datetime) else v


def _dec(v: object) -> KeyValue | None:
    if isinstance(v, dict):
        return datetime.fromisoformat(v["t"])
    return v  # type: ignore[return-value]


def fingerprint(options: dict) -> str:
    return hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cut(lo: KeyValue, hi: KeyValue, rows: int, batch_size: int) -> list[tuple[KeyValue, KeyValue]]:
    """Cut the inclusive key range [lo, hi] into half-open intervals of ≈ batch_size rows.

    Widths assume rows spread evenly over the key range: ``rows / batch_size`` intervals of
    equal width, never narrower than one key value (1 for integers, 1 ms for timestamps).
    """
    if isinstance(lo, datetime):
        assert isinstance(hi, datetime)
        span_ms = (hi - lo) // timedelta(milliseconds=1) + 1
        n = max(1, min(span_ms, math.ceil(rows / batch_size)))
        width = math.ceil(span_ms / n)
        edges = [lo + timedelta(milliseconds=width * i) for i in range(n)]
        edges.append(lo + timedelta(milliseconds=width * n))
    else:
        span = int(hi) - int(lo) + 1
        n = max(1, min(span, math.ceil(rows / batch_size)))
        width = math.ceil(span / n)
        edges = [int(lo) + width * i for i in range(n + 1)]
    intervals = [(a, b) for a, b in zip(edges, edges[1:], strict=False) if a <= hi]
    return intervals


def plan_package(pkg: Package, src: Source, window: Window, batch_size: int) -> PackagePlan:
    """Probe [min, max] and count of the key under the run's filters, then cut it."""
    probe = src.fetch(probe_sql(pkg, src, window))
    lo, hi, n, nulls = probe.row(0)
    from .events import normalize_times  # timestamps as naive UTC ms, like the batches

    if isinstance(lo, datetime):
        fixed = normalize_times(probe.select("lo", "hi"))
        lo, hi = fixed.row(0)
    plan = PackagePlan(pkg.name, pkg.key, pkg.key_kind, int(n or 0), lo, hi)
    if lo is not None:
        intervals = cut(lo, hi, int(n) - int(nulls or 0), batch_size)
        for i, (a, b) in enumerate(intervals):
            first, last = i == 0, i == len(intervals) - 1
            plan.batches.append(Batch(pkg.name, i, None if first else a, None if last else b))
    if nulls:
        plan.batches.append(Batch(pkg.name, len(plan.batches), None, None, null_key=True))
    return plan


def new_plan_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)
