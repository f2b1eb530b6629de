"""Why an embedded database folder would not open: another process holds it, or it is damaged.

chDB raises only "Error initializing EmbeddedServer" when it cannot open a folder; the reason
(the folder's lock held by another process, a metadata file it cannot parse, ...) goes to
the process's stderr. The lock is the engine's `flock` on <folder>/status, which a probe can
test; any other reason is read back from stderr while the open is tried once more.
"""
from __future__ import annotations

import fcntl
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable, TypeVar

from segwork.errors import EngineBusyError, EngineError

T = TypeVar("T")
ELSEWHERE = ("Check the folder, restore it from a backup, or point segwork elsewhere: SEGWORK_DATA_DIR=/other/folder, "
             "SEGWORK_DSN=chdb:///other/folder, or a ClickHouse server (SEGWORK_DSN=http://user:pass@host:8123/db)")
LOCKED = "Another server instance in same directory is already running"  # the engine's words for a held folder
_ENGINE_LINE = re.compile(r"Code: \d+\. DB::Exception: .*?\([A-Z][A-Z0-9_]+\)", re.DOTALL)
_capture = threading.Lock()


def reopen_or_explain(folder: str, open_engine: Callable[[], T], failure: Exception) -> T:
    """After open_engine() failed with `failure`: EngineBusyError only when another process holds
    the folder's lock; else the engine's own reason, read while the open is tried once more
    (if that try works, its result is returned)."""
    held = held_by_another_process(folder)
    said = ""
    if not held:
        result, error, said = engine_says(open_engine)
        if error is None:
            return result
        held = LOCKED in said
    if held:
        raise EngineBusyError(
            f"the embedded database at {folder} is in use by another process "
            "(only one process may open it at a time). Either stop the other process "
            "(a running workbench, notebook or `python -m segwork serve`), or point "
            "SEGWORK_DSN at a ClickHouse server (http://user:pass@host:8123/db) or at "
            "another folder (chdb:///path/to/other/dir)."
        ) from failure
    reason = said or " ".join(str(error or failure).split())[:500]
    raise EngineError(f"the embedded database at {folder} cannot be opened, and no other process holds it; "
                      f"the engine says: {reason}. The folder may be damaged (a file edited or cut short, a full disk, "
                      f"a copy taken while it was open) or unreadable for this user. {ELSEWHERE}") from failure


def held_by_another_process(folder: str) -> bool:
    """True while a process holds the engine's lock on the folder (`flock` on its status file).
    Tried without waiting and let go at once; only asked after an open has failed."""
    try:
        fd = os.open(Path(folder) / "status", os.O_RDONLY)
    except OSError:
        return False  # no status file: no engine has the folder open
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def engine_says(open_engine: Callable[[], T]) -> tuple[T | None, Exception | None, str]:
    """(result, exception, the engine's first message) of open_engine() with file descriptor 2
    read meanwhile. What was written there is written to stderr again afterwards, so nothing
    is lost, only late; another thread's output in that moment is delayed the same way."""
    with _capture, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            result, error = open_engine(), None
        except Exception as exc:  # the caller decides what the failure means
            result, error = None, exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read().decode("utf-8", "replace")
    if text:
        sys.stderr.write(text)
        sys.stderr.flush()
    return result, error, first_message(text)


def first_message(text: str) -> str:
    """The engine's first 'Code: N. DB::Exception: ... (NAME)' in `text` on one line, else its first line."""
    found = _ENGINE_LINE.search(text)
    line = found.group(0) if found else next((ln for ln in text.splitlines() if ln.strip()), "")
    return " ".join(line.split())[:500]
