"""How a file is written: the CSV delimiter, the decimal mark, the text encoding, the sheet.

A `Dialect` says what the caller knows (None: find out); `resolve_text` finds out the rest
from the head of a text file (the delimiter with the standard library's `csv.Sniffer`,
restricted to , ; tab |; the encoding with charset-normalizer, only when the bytes are not
UTF-8), and the resolved dialect is kept on the `Source`, so a caller can show what was found.
"""
from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, replace

from segwork.errors import InputFileError

DELIMITERS = {",": ",", ";": ";", "\t": "\t", "|": "|", "tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
DECIMALS = (".", ",")
ENCODINGS = {"utf-8": "utf-8", "iso8859-1": "latin-1", "cp1252": "cp1252"}  # codecs' name -> the name segwork uses
ENCODING_NAMES = {"utf-8": "UTF-8", "latin-1": "Latin-1 (ISO-8859-1)", "cp1252": "Windows-1252"}
CHOOSE_ENCODING = ("save it as UTF-8, or say its encoding (latin-1 or cp1252: `--encoding cp1252` on the command line, "
                   "`dialect=Dialect(encoding='cp1252')` in Python)")
SAMPLE_BYTES = 1 << 18  # of a text file's head, to sniff its delimiter and tell its encoding
_CHAOS = 0.1  # most "mess" charset-normalizer may find in the head read as Windows-1252 (0.0-1.0) to take it
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


@dataclass(frozen=True)
class Dialect:
    """What is known of a file's writing; None means: find out (see the module's doc).

    delimiter: "," ";" "\\t" "|" (or "tab"), CSV only. decimal: "." or "," (the decimal mark
    of numbers written as text; "," needs another delimiter than ","): with ",", "1.234,5" is
    1234.5 and "1.234" is 1234 ("." groups thousands, three digits each; "12.5" is quarantined).
    encoding: "utf-8" (also the default), "latin-1" or "cp1252" (and their aliases), text
    formats only. sheet: a sheet's name or 0-based index, .xlsx only (default the first).
    """

    delimiter: str | None = None
    decimal: str = "."
    encoding: str | None = None
    sheet: str | int | None = None

    def __post_init__(self):
        if self.delimiter is not None:
            if not isinstance(self.delimiter, str) or self.delimiter.lower() not in DELIMITERS:
                raise InputFileError(f"delimiter {self.delimiter!r} is not one segwork reads; use ',', ';', tab ('\\t' or 'tab') "
                                     "or '|', or leave it out to have it detected")
            object.__setattr__(self, "delimiter", DELIMITERS[self.delimiter.lower()])
        if self.decimal not in DECIMALS:
            raise InputFileError(f"decimal {self.decimal!r}: use '.' (1234.5) or ',' (1234,5)")
        if self.decimal == "," and self.delimiter == ",":
            raise InputFileError("decimal ',' needs another delimiter than ',' (a comma cannot part both fields and "
                                 "decimals); give the file's delimiter, e.g. ';'")
        if self.encoding is not None:
            object.__setattr__(self, "encoding", encoding_name(self.encoding))
        if self.sheet is not None:
            if isinstance(self.sheet, bool) or not isinstance(self.sheet, (str, int)) or self.sheet == "" or (
                    isinstance(self.sheet, int) and self.sheet < 0):
                raise InputFileError(f"sheet {self.sheet!r}: give a sheet's name or its 0-based position (0 is the first)")

    def describe(self, detected: frozenset[str] = frozenset()) -> str:
        """The dialect for people, those of its parts that were `detected` marked so, e.g.
        "delimiter semicolon (detected), decimal comma, encoding Windows-1252 (detected)"."""
        parts = []
        if self.delimiter is not None:
            parts.append(f"delimiter {DELIMITER_NAMES[self.delimiter]}" + " (detected)" * ("delimiter" in detected))
        parts.append("decimal comma" if self.decimal == "," else "decimal point")
        if self.encoding is not None:
            parts.append(f"encoding {ENCODING_NAMES[self.encoding]}" + " (detected)" * ("encoding" in detected))
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        return ", ".join(parts)

    @property
    def plain(self) -> bool:
        """Whether this is what a file was read as before dialects: comma, point, UTF-8, no sheet."""
        return self.delimiter in (None, ",") and self.decimal == "." and self.encoding in (None, "utf-8") and self.sheet is None


def encoding_name(name: str) -> str:
    """segwork's name of an encoding it reads ("utf-8", "latin-1", "cp1252"), from any alias."""
    try:
        found = codecs.lookup(str(name)).name
    except LookupError:
        found = None
    found = "utf-8" if found == "utf-8-sig" else found
    if found not in ENCODINGS:
        raise InputFileError(f"encoding {name!r} is not one segwork reads; use utf-8, latin-1 (ISO-8859-1) or cp1252 "
                             "(Windows-1252), or convert the file to UTF-8")
    return ENCODINGS[found]


def check_applies(dialect: Dialect, fmt: str, name: str) -> None:
    """Refuse a choice that does not apply to the format (it would be silently ignored)."""
    if dialect.delimiter is not None and fmt != "csv":
        raise InputFileError(f"{name}: a delimiter applies to CSV files only, and this one is read as {fmt.upper()}; "
                             "leave the delimiter out, or pass format 'csv'")
    if dialect.encoding is not None and fmt not in ("csv", "ndjson", "json"):
        raise InputFileError(f"{name}: an encoding applies to text files (CSV, NDJSON, JSON) only, and this one is "
                             f"{fmt.upper()}; leave the encoding out")
    if dialect.sheet is not None and fmt != "xlsx":
        raise InputFileError(f"{name}: a sheet applies to Excel (.xlsx) files only, and this one is read as {fmt.upper()}; "
                             "leave the sheet out")


def resolve_text(head: bytes, fmt: str, dialect: Dialect, name: str) -> tuple[Dialect, frozenset[str]]:
    """The dialect of a text file from its first bytes: for a CSV, the encoding told when not
    given and the delimiter sniffed; and which of them were found rather than given. NDJSON and
    JSON are UTF-8 unless told otherwise (JSON's own rule, RFC 8259: the Events API keeps it)."""
    found = set()
    encoding = dialect.encoding
    if encoding is None:
        encoding = detect_encoding(head, name) if fmt == "csv" else "utf-8"
        if encoding != "utf-8":
            found.add("encoding")
    delimiter = dialect.delimiter
    if fmt == "csv" and delimiter is None:
        delimiter = sniff_delimiter(head.decode(encoding, "replace"))
        found.add("delimiter")
        if dialect.decimal == "," and delimiter == ",":
            raise InputFileError(f"{name}: its delimiter looks like ',' but the decimal mark is ','; give the file's "
                                 "delimiter (e.g. ';'), or use decimal '.'")
    return replace(dialect, encoding=encoding, delimiter=delimiter if fmt == "csv" else None), frozenset(found)


def sniff_delimiter(text: str) -> str:
    """The delimiter of CSV text (its first lines): csv.Sniffer restricted to , ; tab |, checked
    against the header line; "," when nothing tells (a file of one column)."""
    lines = text.lstrip("\ufeff").splitlines()
    if len(text) >= SAMPLE_BYTES // 2 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    sample = "\n".join(lines[:200])
    header = _unquoted(lines[0]) if lines else ""
    try:
        found = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        found = None
    if found is not None and (found in header or not any(d in header for d in DELIMITER_NAMES)):
        return found
    counts = {d: header.count(d) for d in DELIMITER_NAMES}  # a header line names columns: its delimiters part them
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _unquoted(line: str) -> str:
    """A line without its quoted values (a delimiter inside quotes parts nothing)."""
    return re.sub(r'"[^"]*(?:""[^"]*)*"?', "", line)


def _western_words(text: str) -> bool:
    """Whether the words of text that have letters beyond ASCII mostly have ASCII letters too."""
    mixed = alone = 0
    for word in re.findall(r"[^\W\d_]+", text):
        if not word.isascii():
            wide = sum(not c.isascii() for c in word)
            mixed += wide < len(word)
            alone += wide == len(word) > 1
    return mixed > alone


def detect_encoding(head: bytes, name: str) -> str:
    """"utf-8", or "cp1252" when the head is not UTF-8 and reads as Windows-1252 (a superset of
    Latin-1 in practice) with confidence; else InputFileError saying what to do.

    A head with more valid UTF-8 characters than invalid bytes is UTF-8 with a few broken lines
    (those lines are quarantined); a head that is all ASCII is UTF-8 too, as far as can be told.
    Windows-1252 with confidence: charset-normalizer finds little mess in it read so, and its
    words with other letters than ASCII are mostly written in both (Müller, café); Cyrillic
    or Greek read so makes words of such letters alone ("èìÿ" for "имя"), and a few bytes that
    are no letters tell nothing. Other Latin-script code pages (cp1250, cp1254) differ from it in
    a few letters only and cannot be told from it this way."""
    for bom, what in _BOMS.items():
        if head.startswith(bom):
            raise InputFileError(f"{name}: is {what} text; segwork reads UTF-8, Latin-1 and Windows-1252: save it as UTF-8")
    sample = head[:head.rfind(b"\n") + 1] if len(head) >= SAMPLE_BYTES and b"\n" in head else head
    decoded = sample.decode("utf-8", "replace")
    invalid = decoded.count("\ufffd") - sample.count("\ufffd".encode())
    if invalid <= 0 or sum(ord(c) > 127 and c != "\ufffd" for c in decoded) >= invalid:
        return "utf-8"
    from charset_normalizer import from_bytes

    western = from_bytes(sample, cp_isolation=["cp1252"]).best()
    if western is not None and western.chaos <= _CHAOS and _western_words(sample.decode("cp1252", "replace")):
        return "cp1252"
    wide = sum(b > 127 for b in sample[:1 << 16])
    guess = from_bytes(sample).best() if wide >= 20 else None  # a guess on fewer bytes misleads more than it helps
    looks = (f" (it looks like {guess.encoding}{': ' + ', '.join(guess.languages[:2]) if guess.languages else ''})" if guess
             else " (too few characters beyond ASCII to tell)" if wide < 20 else "")
    raise InputFileError(f"{name}: is not UTF-8 text, nor Latin-1 or Windows-1252 text as far as can be told{looks}; "
                         f"{CHOOSE_ENCODING}")
