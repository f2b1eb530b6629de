"""segwork: validated ingestion into ClickHouse (embedded chDB or a server) and customer
segmentation queries, shared by the workbench, the notebooks, the CLI and the HTTP API."""
from segwork.config import Settings
from segwork.db import connect
from segwork.errors import (ConfigError, EngineBusyError, EngineError, InputFileError, InputTooLargeError,
                            ParameterError, SchemaVersionError, SegworkError)
from segwork.ingestion import Dialect, IngestReport, ingest
from segwork.queries import (customer_engagement_analysis, customer_event_count, customer_segment_lookup,
                             customer_segments_summary, customer_timeline, event_types_present, events_over_time,
                             find_customers, locations_present, segment_customers)
from segwork.migrations import migrate
from segwork.custom import DefinitionError, Segment
from segwork.segments import DEFAULT_RULES, SegmentRules

__all__ = [
    "Settings", "connect", "migrate", "ingest", "Dialect", "IngestReport", "SegmentRules", "DEFAULT_RULES",
    "customer_segment_lookup", "customer_engagement_analysis", "customer_segments_summary",
    "segment_customers", "find_customers", "customer_timeline", "customer_event_count", "events_over_time",
    "event_types_present", "locations_present",
    "SegworkError", "ConfigError", "EngineError", "EngineBusyError", "InputFileError", "InputTooLargeError",
    "ParameterError", "SchemaVersionError", "Segment", "DefinitionError",
]
