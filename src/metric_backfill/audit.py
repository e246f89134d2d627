"""The audit directory of ``run --parquet-dir``: which plan it belongs to, and whether it is whole.

``audit.json`` (plan id, fingerprint, every batch id) is written once, atomically, when a run
starts executing its plan, before its first file. It is what makes the directory checkable:
``load`` knows which files must be there, so a run killed half-way, a manifest cut mid-line, a
file renamed into place but never recorded, or an entry of another plan is seen for what it is
instead of being loaded as if it were the whole backfill. A directory holds the audit of one
plan: a run of any other plan is refused before it writes anything there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .durable import write_atomic
from .errors import UserError
from .plan import Plan

AUDIT_FILE = "audit.json"
MANIFEST_FILE = "manifest.jsonl"
_FIELDS = {"batch": str, "file": str, "rows": int, "sha256": str, "token": str}


@dataclass(frozen=True)
class AuditFile:
    batch: str
    path: Path
    rows: int
    sha256: str
    token: str


def _header(root: Path) -> dict | None:
    path = root / AUDIT_FILE
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
        if isinstance(doc["plan_id"], str) and isinstance(doc["batches"], list):
            return doc
    except (ValueError, KeyError, TypeError):
        pass
    raise UserError(f"{path} is not readable: not the audit of a run")


def check_audit_dir(root: Path | None, plan_id: str | None = None) -> None:
    """Refuse a directory holding the audit of a plan other than ``plan_id`` (None: a plan not
    made yet, so any audit already there belongs to another one)."""
    if root is None:
        return
    doc = _header(root)
    if doc is None:
        if (root / MANIFEST_FILE).exists() or any(root.glob("*/*.parquet")):
            raise UserError(f"--parquet-dir {root} holds audit files of an unknown run "
                            f"(no {AUDIT_FILE}): use an empty directory")
        return
    if doc["plan_id"] != plan_id:
        raise UserError(f"--parquet-dir {root} holds the audit of plan {doc['plan_id']}: "
                        "continue that run with --resume, or use another directory")


def claim_audit_dir(root: Path | None, plan: Plan) -> None:
    """Record ``plan`` as the directory's plan, once: a resume finds its own audit.json."""
    if root is None:
        return
    check_audit_dir(root, plan.plan_id)
    if (root / AUDIT_FILE).exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    doc = {"plan_id": plan.plan_id, "fingerprint": plan.fingerprint,
           "batches": [b.id for b in plan.all_batches()]}
    write_atomic(root / AUDIT_FILE, json.dumps(doc, indent=1))


@dataclass
class AuditSet:
    """What a directory holds against what its plan needs. ``files`` are the complete,
    checked batches in plan order; everything else says why the set is not whole."""

    root: Path
    plan_id: str
    batches: list[str]
    files: list[AuditFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    foreign: int = 0
    torn: int = 0

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unlisted or self.foreign)

    def problems(self) -> str:
        out = []
        if self.missing:
            out.append(f"{len(self.missing)} of {len(self.batches)} batches missing from "
                       f"{MANIFEST_FILE} (e.g. {self.missing[0]})")
        if self.torn:
            out.append(f"{self.torn} unreadable manifest line(s) (cut mid-write)")
        if self.unlisted:
            out.append(f"{len(self.unlisted)} file(s) not in the manifest (e.g. {self.unlisted[0]})")
        if self.foreign:
            out.append(f"{self.foreign} manifest entr{'y' if self.foreign == 1 else 'ies'} "
                       "of another plan")
        return ", ".join(out)


def read_audit(root: Path) -> AuditSet:
    """Match the manifest and the files on disk against audit.json; check every file kept.

    The last line per batch wins (a retried batch rewrote its file). A file that contradicts
    its own entry (missing, other checksum, other row count) was changed after it was
    written, and stops the load however it is asked to run.
    """
    doc = _header(root)
    if doc is None:
        raise UserError(f"{root / AUDIT_FILE} not found: not the --parquet-dir of a run, or "
                        "written before audit files recorded their plan")
    audit = AuditSet(root, doc["plan_id"], [str(b) for b in doc["batches"]])
    wanted = set(audit.batches)
    own: dict[str, dict] = {}
    listed: set[str] = set()
    for entry in _manifest_entries(audit):
        listed.add(entry["file"])
        if entry["batch"] in wanted and entry["token"] == f"{audit.plan_id}:{entry['batch']}":
            own[entry["batch"]] = entry
        else:
            audit.foreign += 1
    on_disk = sorted(str(p.relative_to(root)) for p in root.glob("*/*.parquet"))
    audit.unlisted = [f for f in on_disk if f not in listed]
    audit.missing = [b for b in audit.batches if b not in own]
    audit.files = [_checked(root, own[b]) for b in audit.batches if b in own]
    return audit


def _manifest_entries(audit: AuditSet) -> list[dict]:
    """Well-formed lines, in order; any other line (a torn append, sealed or not) is counted."""
    manifest = audit.root / MANIFEST_FILE
    entries = []
    raw = manifest.read_bytes() if manifest.exists() else b""
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            e = json.loads(line)
            if not (isinstance(e, dict) and all(isinstance(e.get(k), t) for k, t in _FIELDS.items())):
                raise ValueError
        except ValueError:
            audit.torn += 1
            continue
        entries.append(e)
    return entries


def _checked(root: Path, e: dict) -> AuditFile:
    path = root / e["file"]
    if not path.resolve().is_relative_to(root.resolve()):
        raise UserError(f"{root / MANIFEST_FILE} names {e['file']}, outside the directory")
    if not path.exists():
        raise UserError(f"{path} is listed in the manifest but missing")
    if hashlib.sha256(path.read_bytes()).hexdigest() != e["sha256"]:
        raise UserError(f"{path} does not match its manifest checksum (modified or corrupt)")
    import pyarrow.parquet as pq  # on use: it costs every start 0.1 s otherwise
    rows = pq.read_metadata(path).num_rows
    if rows != e["rows"]:
        raise UserError(f"{path} has {rows} rows, the manifest says {e['rows']}")
    return AuditFile(e["batch"], path, e["rows"], e["sha256"], e["token"])
