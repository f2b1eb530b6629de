"""Column mappings: an analyst's own file made into segwork's tables.

    spec         Mapping / FieldSource: how each field is made (column, constant, expression,
                 template, cases), kept as JSON; Mapping.check compiles it against a header
    expressions  whitelisted expressions over the file's columns, evaluated by pandas.eval
    apply        a compiled mapping over one raw chunk: fields, per-row errors, source records
    suggest      a first mapping guessed from a file's column names and values
    profiles     customers derived from a transaction file's events
    store        built-in mappings (builtin/*.json) and saved ones (the `mappings` table)

`segwork.ingest(client, table, file, mapping=Mapping | "name")` runs a file through one.
"""
from segwork.mapping.expressions import ExpressionError
from segwork.mapping.spec import FieldSource, Mapping, MappingError
from segwork.mapping.store import builtins, load, remove, save, saved

__all__ = ["ExpressionError", "FieldSource", "Mapping", "MappingError", "builtins", "load", "remove", "save", "saved"]
