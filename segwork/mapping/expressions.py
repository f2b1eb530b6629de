"""Expressions over a file's columns (`Quantity * UnitPrice`, `InvoiceNo.str.startswith("C")`),
checked against a whitelist of syntax and names, then evaluated by pandas' own expression
engine (`pandas.eval`, python engine) with only the referenced columns in scope.

Python's `ast` parses the text; anything but arithmetic, comparisons, `and`/`or`/`not`,
constants, the file's columns and a few `.str` methods is refused before pandas sees it, so
no attribute, call or name outside the list can run. A column whose name is not an identifier
is written in backticks: `` `Unit Price` * 2 ``. The name `_line` is the record's line number.
Nothing here reaches SQL: the result is a pandas Series that goes through the same typing and
validation as a column read from a file.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segwork.errors import SegworkError

LINE = "_line"  # the record's line number (CSV: the physical line it starts on; a sheet: its row)
MAX_LENGTH = 500
STR_METHODS = frozenset({"startswith", "endswith", "lower", "upper", "strip", "removeprefix", "removesuffix",
                         "len", "zfill", "slice", "contains", "replace"})
FUNCTIONS = frozenset({"abs", "sqrt", "log", "exp"})  # pandas.eval's own math functions
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr)
_UNARY = (ast.USub, ast.UAdd, ast.Not, ast.Invert)
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_BACKTICK = re.compile(r"`([^`]+)`")
_PREFIX = "segwork_column_"  # placeholders: segwork_column_0, ...


class ExpressionError(SegworkError):
    """An expression uses syntax, a name or a method that mappings do not allow."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, the columns it reads, and which of them are read as numbers."""

    text: str
    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    _code: str  # the text with every column as a safe placeholder name
    _names: tuple[tuple[str, str], ...]  # (placeholder, column)

    def evaluate(self, values: dict[str, pd.Series], n: int) -> pd.Series:
        """The expression over `values` (column -> Series of n rows, numbers already numeric)."""
        scope = {placeholder: values[column] for placeholder, column in self._names}
        try:
            result = pd.eval(self._code, engine="python", parser="pandas", local_dict=scope, global_dict={})
        except Exception as exc:  # noqa: BLE001 - pandas raises many types for a bad operand
            raise ExpressionError(f"expression {self.text!r} cannot be computed on this file: {exc}") from exc
        if np.isscalar(result):
            return pd.Series([result] * n)
        return pd.Series(result).reset_index(drop=True)


def compile_expression(text: str, columns: list[str] | tuple[str, ...]) -> Expression:
    """Check `text` against the whitelist and the file's `columns` (ExpressionError saying what to change)."""
    text = (text or "").strip()
    if not text:
        raise ExpressionError("the expression is empty: write one, e.g. Quantity * UnitPrice")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    known = set(columns) | {LINE}
    names: dict[str, str] = {}

    def placeholder(column: str) -> str:
        if column not in known:
            raise ExpressionError(f"expression {text!r}: no column {column!r} in the file; columns: {', '.join(columns)}")
        return names.setdefault(column, f"{_PREFIX}{len(names)}")

    code = _BACKTICK.sub(lambda m: placeholder(m.group(1)), text)
    try:
        tree = ast.parse(code, mode="eval")
    except (SyntaxError, RecursionError, ValueError) as exc:
        raise ExpressionError(f"expression {text!r} is not valid: {getattr(exc, 'msg', exc)}; "
                              "write e.g. Quantity * UnitPrice or InvoiceNo.str.startswith(\"C\")") from exc
    by_placeholder = {v: k for k, v in names.items()}
    checker = _Checker(text, known, by_placeholder, placeholder)
    try:
        checker.visit(tree)
    except RecursionError as exc:
        raise ExpressionError(f"expression {text!r} is nested too deeply") from exc
    code = ast.unparse(checker.rewritten(tree))
    cols = tuple(dict.fromkeys(names))
    numeric = tuple(c for c in cols if c not in checker.text_columns)
    return Expression(text, cols, numeric, code, tuple((v, k) for k, v in names.items()))


class _Checker(ast.NodeVisitor):
    """Refuse every node outside the whitelist; note columns used as text."""

    def __init__(self, text, known, by_placeholder, placeholder):
        self.text, self.known, self.by_placeholder, self.placeholder = text, known, by_placeholder, placeholder
        self.text_columns: set[str] = set()

    def refuse(self, what: str):
        raise ExpressionError(f"expression {self.text!r}: {what} is not allowed. Use the file's columns, numbers, "
                              "\"text\", + - * / // % **, comparisons, and/or/not, abs/sqrt/log/exp and "
                              f".str.{{{', '.join(sorted(STR_METHODS))}}}(...)")

    def column_of(self, node) -> str | None:
        if isinstance(node, ast.Name):
            return self.by_placeholder.get(node.id, node.id)
        return None

    def generic_visit(self, node):
        allowed = (ast.Expression, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.And, ast.Or,
                   ast.List, ast.Tuple) + _BINOPS + _UNARY + _COMPARE
        if not isinstance(node, allowed):
            self.refuse(type(node).__name__.lower())
        super().generic_visit(node)

    def visit_Constant(self, node):
        if not isinstance(node.value, (int, float, str)) and node.value is not None:
            self.refuse(f"the constant {node.value!r}")

    def visit_Name(self, node):
        column = self.column_of(node)
        if column not in self.known and node.id in FUNCTIONS:
            self.refuse(f"{node.id} without a call")
        self.placeholder(column)  # an unknown name: 'no column ... in the file; columns: ...'

    def visit_Compare(self, node):
        sides = [node.left, *node.comparators]
        if any(isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides) or any(
                isinstance(s, (ast.List, ast.Tuple)) and any(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in s.elts)
                for s in sides):
            self.text_columns.update(c for s in sides if (c := self.column_of(s)) is not None)
        self.generic_visit(node)

    def visit_Attribute(self, node):
        self.refuse(f"the attribute .{node.attr} outside a .str method call")

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in FUNCTIONS and len(node.args) == 1 and not node.keywords:
            return self.visit(node.args[0])
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and func.value.attr == "str"
                and self.column_of(func.value.value) is not None):
            self.refuse("this call")
        if func.attr not in STR_METHODS:
            self.refuse(f"the method .str.{func.attr}")
        for arg in node.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, (int, str)) and not isinstance(arg.value, bool)):
                self.refuse(f"a non-constant argument of .str.{func.attr}")
        for kw in node.keywords:
            if kw.arg not in ("regex", "case") or not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                self.refuse(f"the keyword {kw.arg}= of .str.{func.attr}")
        if func.attr in ("contains", "replace") and not any(k.arg == "regex" and k.value.value is False for k in node.keywords):
            self.refuse(f".str.{func.attr} without regex=False (regular expressions are not allowed)")
        column = self.column_of(func.value.value)
        self.visit_Name(func.value.value)
        self.text_columns.add(column)

    def rewritten(self, tree):
        """The tree with plain column names as placeholders (pandas then sees only safe names)."""
        placeholder, by_placeholder = self.placeholder, self.by_placeholder

        class Rename(ast.NodeTransformer):
            def visit_Name(self, node):
                if node.id in FUNCTIONS:
                    return node
                if node.id.startswith(_PREFIX) and node.id in by_placeholder:
                    return node
                return ast.copy_location(ast.Name(id=placeholder(node.id), ctx=node.ctx), node)

        return ast.fix_missing_locations(Rename().visit(tree))
