"""The benchmark's measurement stages, one module per job; ``benchmarks/`` holds the thin
command lines that call them and the committed results.

- ``setup``: what a run measures, and the seeded databases (one per scale, seeded in children)
- ``machine``: the machine, library versions and the engine's revision
- ``pg_read``: read floor (binary COPY) and readers (ConnectorX, ADBC) on the engine's batch SQL
- ``transform``: ``explode`` + ``event_table`` over pre-read batches
- ``plans``: ``EXPLAIN`` of every package's middle batch query, whole-table scans flagged
- ``chdb_side``: the insert alone, the ClickHouse packages, in one child (kind ``misc``)
- ``rowwise``: the row-at-a-time reference on a sample
- ``native``: chdb's own ``INSERT … SELECT FROM postgresql()`` (kind ``native``)
- ``cli_runs``: ``metric-backfill run`` processes against native (the headline)
- ``curves``: the scale curve, verify after it, the concurrency curve
- ``summary``: stage rates, ratios and targets
- ``markdown``, ``render``, ``render_detail``: RESULTS.md
- ``harness``: the whole benchmark in order (``benchmarks/run.py``)
- ``profile``: where one package's time goes (``benchmarks/profile_e2e.py``)
- ``verify_scale``: verify's memory and time by scale (``benchmarks/verify_scale.py``)
- ``dask_overhead``: threads vs Dask with two local workers (``benchmarks/dask_overhead.py``)

Invariant: the parent process never opens chdb; everything that does runs in a child through
``metric_backfill_lab.child`` or is a ``metric-backfill`` process (``bench.cli``).
"""
