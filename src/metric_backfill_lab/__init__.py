"""The lab around metric-backfill: the synthetic Civitai generator, an embedded Postgres server
and the benchmark building blocks. Tests, ``demo``, ``db`` and the benchmarks use it; a
production backfill never imports it (``pip install 'metric-backfill[lab]'`` adds it)."""
