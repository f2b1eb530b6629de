"""Your own segments: definitions as data (model, codec), compiled to one parameterized query
(compile), saved with versions (store) and run (run): size, members, per-condition counts,
sizes of many, the SQL."""
from segwork.custom.codec import from_dict, from_json, from_yaml, to_dict, to_json, to_yaml
from segwork.custom.model import (DefinitionError, Events, Field, FirstEvent, Group, InSegment, LastEvent, Rfm,
                                  Segment)
from segwork.custom.run import condition_counts, count, members, sizes, sql_of
from segwork.custom.store import examples, get, listing, remove, save, save_examples, versions

__all__ = ["DefinitionError", "Events", "Field", "FirstEvent", "Group", "InSegment", "LastEvent", "Rfm", "Segment",
           "condition_counts", "count", "examples", "from_dict", "from_json", "from_yaml", "get", "listing", "members",
           "remove", "save", "save_examples", "sizes", "sql_of", "to_dict", "to_json", "to_yaml", "versions"]
