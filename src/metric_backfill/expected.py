"""Expected sums, streamed from the sources into a scratch table of the target ClickHouse.

Each package states every metric a second time as a GROUP BY query (``Package.expected``)
that never calls a transform: sums per entity and per month of the event time. verify copies
each query's result into the scratch table in Arrow batches (or, when the source is the target
ClickHouse itself, with one server-side INSERT … SELECT), so memory does not grow with the
data. Remapped sums (ModelVersion id → modelId) are joined in ClickHouse against the lookup,
which is streamed there too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from .clickhouse import ClickHouse, string_literal
from .defaults import excluded_versions_sql
from .events import Window
from .package import Expected, Package
from .scratch import Scratch
from .sources import ClickHouseSource, PostgresSource, Source, window_literals

EXPECTED_COLUMNS = ("entityType LowCardinality(String), entityId Int64, "
                    "metricType LowCardinality(String), month Date32, value Int64")
EXPECTED_ORDER = "entityType, entityId"
_SCHEMA = pa.schema([("entityType", pa.string()), ("entityId", pa.int64()),
                     ("metricType", pa.string()), ("month", pa.date32()), ("value", pa.int64())])
LOOKUP_COLUMNS = "name LowCardinality(String), id Int64, mapped Int64"

VERIFY_SETTINGS = {
    # chdb runs inside this process: a GROUP BY, sort or join over many entities spills to
    # disk instead of growing the process
    "max_bytes_before_external_group_by": 50_000_000,
    "max_bytes_before_external_sort": 50_000_000,
    "join_algorithm": "grace_hash",
    "grace_hash_join_initial_buckets": 8,
    "max_bytes_in_join": 50_000_000,
    # a server-side INSERT … SELECT into a scratch table writes blocks of 100,000 rows
    # instead of squashing a million rows (256 MB) in memory first
    "max_insert_block_size": 100_000,
    "min_insert_block_size_rows": 100_000,
    "min_insert_block_size_bytes": 32_000_000,
    # months before 1970 or after 2149 are months, not saturated dates
    "enable_extended_results_for_datetime_functions": 1,
}


def sql_params(params: dict[str, object]) -> dict[str, str]:
    """Run parameters as SQL text for the Expected templates."""
    return {"exclude_versions": excluded_versions_sql(params)}


def families(packages: list[Package], metrics: set[str]) -> list[tuple[Package, Expected]]:
    """The Expected queries feeding at least one selected metric."""
    return [(p, e) for p in packages for e in p.expected if metrics.intersection(e.metrics)]


def in_metrics(metrics: list[str], entity_type: str, metric_type: str) -> str:
    """``(entityType, metricType)`` is one of ``metrics`` — portable to Postgres and ClickHouse."""
    pairs = " OR ".join(
        f"({entity_type} = {string_literal(e)} AND {metric_type} = {string_literal(m)})"
        for e, m in (name.split(".", 1) for name in sorted(metrics))
    )
    return f"({pairs or 'false'})"


@dataclass
class ExpectedLoader:
    """Fills ``<scratch>_expected`` with the expected sums of the selected metrics."""

    scratch: Scratch
    sources: dict[str, Source]
    pg: PostgresSource | None
    window: Window
    params: dict[str, object]
    sample: Callable[[str, str, str], str] | None = None
    """SQL condition over (entityType, metricType, entityId) columns: the sampled entities."""

    def __post_init__(self) -> None:
        self.ch: ClickHouse = self.scratch.ch
        self.table = self.scratch.create("expected", EXPECTED_COLUMNS, EXPECTED_ORDER)
        self.stop = threading.Event()
        """Set to make loads in other threads stop at their next batch."""
        self._lock = threading.Lock()
        self._lookup: str | None = None
        self._loaded: set[str] = set()

    def load(self, pkg: Package, exp: Expected, metrics: set[str],
             on_rows: Callable[[int], None]) -> None:
        """Copy one Expected query's sums for ``metrics`` (safe to run in several threads)."""
        wanted = sorted(metrics.intersection(exp.metrics))
        src = self.sources[pkg.name]
        sql = exp.sql.format(**window_literals(src, self.window), **sql_params(self.params))
        where = in_metrics(wanted, 'q."entityType"', 'q."metricType"')
        if self.sample is not None and exp.remap is None:
            where += " AND " + self.sample('q."entityType"', 'q."metricType"', 'q."entityId"')
        sql = f"SELECT * FROM ({sql}) AS q WHERE {where}"
        if exp.remap is None:
            self.copy(src, sql, self.table, on_rows)
            return
        with self._lock:
            staging = self.scratch.create(f"staging_{len(self.scratch.created)}", EXPECTED_COLUMNS,
                                          EXPECTED_ORDER)
        self.copy(src, sql, staging, on_rows)
        self.remap(pkg, exp.remap, staging)

    def server_side(self, pkg: Package) -> bool:
        """The package's source is the target ClickHouse: its sums are copied by the server."""
        return self._is_target(self.sources[pkg.name])

    def _is_target(self, src: Source) -> bool:
        return isinstance(src, ClickHouseSource) and src.ch.dsn == self.ch.dsn

    def copy(self, src: Source, sql: str, dest: str, on_rows: Callable[[int], None]) -> None:
        if self._is_target(src):
            self.ch.command(f"INSERT INTO {dest} SELECT * FROM ({sql})",
                            settings=self.ch.supported(VERIFY_SETTINGS))
            return
        stream_into(self.ch, src, sql, dest, _SCHEMA, on_rows, self.stop)

    def remap(self, pkg: Package, lookup: str, staging: str) -> None:
        """Staged sums → the expected table with entityId replaced by the lookup's ``mapped``;
        ids missing from the lookup drop out (an inner join, as in the transform)."""
        table = self.lookup(pkg, lookup)
        where = "" if self.sample is None else "WHERE " + self.sample("s.entityType", "s.metricType", "l.mapped")
        self.ch.command(
            f"INSERT INTO {self.table} SELECT s.entityType, l.mapped, s.metricType, s.month, s.value "
            f"FROM {staging} AS s INNER JOIN (SELECT id, mapped FROM {table} "
            f"WHERE name = {string_literal(lookup)}) AS l ON l.id = s.entityId {where}",
            settings=self.ch.supported(VERIFY_SETTINGS),
        )

    def lookup(self, pkg: Package, name: str) -> str:
        with self._lock:
            return self._load_lookup(pkg, name)

    def _load_lookup(self, pkg: Package, name: str) -> str:
        if self._lookup is None:
            self._lookup = self.scratch.create("lookup", LOOKUP_COLUMNS, "name, id")
        if name not in self._loaded:
            if self.pg is None:
                from .errors import UserError

                raise UserError(f"package {pkg.name} needs --pg for its lookup {name}")
            schema = pa.schema([("id", pa.int64()), ("mapped", pa.int64())])
            for batch in self.pg.stream(pkg.lookups[name]):
                rows = to_schema(batch, schema)
                rows = rows.filter(pc.is_valid(rows["mapped"]))
                names = pa.array([name] * rows.num_rows, pa.string())
                self.ch.insert_arrow(self._lookup, rows.append_column("name", names))
            self._loaded.add(name)
        return self._lookup


def stream_into(ch: ClickHouse, src: Source, sql: str, dest: str, schema: pa.Schema,
                on_rows: Callable[[int], None], stop: threading.Event | None = None) -> None:
    """Copy the result of ``sql`` on ``src`` into the table ``dest`` of ``ch``, one streamed
    Arrow batch at a time (as ``schema``, by position): memory holds one batch, whatever the
    result's size. ``stop`` set by another thread ends the copy at the next batch."""
    for batch in src.stream(sql):
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        ch.insert_arrow(dest, to_schema(batch, schema))
        on_rows(batch.num_rows)


def to_schema(batch: pa.RecordBatch, schema: pa.Schema) -> pa.Table:
    """A source batch as the scratch columns, by position. ClickHouse sends ``Date`` as UInt16
    days, which become a date; sums (numeric in Postgres) must be whole numbers."""
    columns = []
    for col, f in zip(batch.columns, schema, strict=True):
        if pa.types.is_date32(f.type) and pa.types.is_integer(col.type):
            col = col.cast(pa.int32()).cast(pa.date32())
        columns.append(col.cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)
