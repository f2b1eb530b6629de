"""segwork benchmarks (not tests): `python -m bench --size S|M` writes bench/RESULTS.md.

The three queries through segwork, the same SQL on the engine alone, DuckDB and pandas on
the same data, interleaved; validated ingestion against the engine's own file load; peak
memory of ingestion. Generated data is cached under bench/cache/ (git-ignored).
"""
