"""What happened to every record of one ingest."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable

Progress = Callable[[int, float | None], None]  # (records read so far, fraction done or None)


@dataclass
class IngestReport:
    """What happened to every record of one ingest; rows_read == inserted + duplicates + quarantined."""

    ingest_id: str
    table: str
    source: str
    format: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0  # rows already stored, and bad records already in quarantine (known_bad of them)
    quarantined: int = 0
    known_bad: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dialect: str = ""  # how the file was read, when not comma, point and UTF-8 (Dialect.describe)
    notes: list[str] = field(default_factory=list)  # what else the reader decided (e.g. a CSV read without a header)
    elapsed_s: float = 0.0
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    mapping: str | None = None  # the name of the mapping the file went through, if any
    profiles: "IngestReport | None" = None  # customers derived from these events by the mapping

    @property
    def accepted(self) -> int:
        """Rows now in the table because of this ingest or an identical earlier one."""
        return self.inserted + self.duplicates

    def as_dict(self) -> dict:
        """JSON-ready form (for the API and `--format json`)."""
        d = asdict(self)
        d["started_at"] = self.started_at.isoformat()
        d["profiles"] = self.profiles.as_dict() if self.profiles else None
        d["reasons"] = [{"reason": r, "rows": n} for r, n in self.reasons]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "IngestReport":
        """The report `as_dict` gave (e.g. in an API answer), as a report again."""
        d = dict(d)
        d["reasons"] = [(r["reason"], int(r["rows"])) for r in d.get("reasons", [])]
        d["started_at"] = datetime.fromisoformat(d["started_at"])
        d["profiles"] = cls.from_dict(d["profiles"]) if d.get("profiles") else None
        return cls(**d)

    def _known_bad_words(self) -> str:
        return f"; {self.known_bad:,} of them bad rows already quarantined" if self.known_bad else ""

    def summary(self) -> str:
        """A few human lines."""
        lines = [
            f"{self.source} -> {self.table}: {self.rows_read:,} rows read, {self.inserted:,} inserted, "
            f"{self.duplicates:,} already present (skipped{self._known_bad_words()}), {self.quarantined:,} quarantined "
            f"in {self.elapsed_s:.2f} s (ingest id {self.ingest_id})"
        ]
        if self.dialect:
            lines.append(f"  read as {self.format.upper()}: {self.dialect}")
        lines.extend(f"  {note}" for note in self.notes)
        for reason, n in self.reasons:
            lines.append(f"  {n:>8,}  {reason}")
        if self.ignored_columns:
            lines.append(f"  ignored columns not in {self.table}: {', '.join(self.ignored_columns)}")
        if self.profiles is not None:
            lines.append(self.profiles.summary())
        return "\n".join(lines)
