"""`python -m segwork` entry point.

A finished command leaves with os._exit, after flushing its output and logs, instead of the
interpreter's teardown: native libraries' threads (Arrow's, the engine's) can abort that
teardown ("terminate called without an active exception") and then hang the process. Seen in
a full test run (2026-12-02): `segment diff` through the workbench printed its whole answer,
then hung until the test's 300 s timeout; once before with Arrow's reader threads
(apache/arrow#34314, #50482; segwork.api.remote). Nothing segwork writes waits for that
teardown: files are closed by the commands, the engine's inserts are committed when they return.
"""
import logging
import os
import sys

from segwork.cli import main

code = main()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
