"""Ingestion, stage by stage: everything a record goes through on its way into a table.

    read        bytes -> raw chunks (CSV, NDJSON, JSON, Parquet; gzip): read.open_source, read.read_chunks
    mapped      a file's own columns -> the table's fields, by a column mapping (segwork.mapping)
    parse       raw chunk -> typed frame + what failed to parse: parse.parse_chunk
    validate    typed frame -> failures per row (pandera); good rows -> Arrow: validate.validate, validate.to_arrow
    quarantine  bad records -> quarantine rows with reasons and tokens: quarantine.quarantine_rows
    dedup       what is new (an event_id once, a profile version once, a bad record once): dedup
    write       insert jobs on a worker, as the table's one writer: write.write_blocks, write.insert
    ingestlog   every ingest's states (started, running, finished, failed): ingestlog
    pipeline    all of the above for one source: pipeline.ingest -> report.IngestReport

`segwork.ingest(...)` is pipeline.ingest.
"""
from segwork.ingestion.pipeline import ingest, next_insert_target
from segwork.ingestion.report import IngestReport, Progress

__all__ = ["IngestReport", "Progress", "ingest", "next_insert_target"]
