"""The client environments' cache: two processes asking at once build once; a half-built one is built again."""
from __future__ import annotations

import subprocess
import sys

from segwork.config import PROJECT_DIR

BUILDER = """
import sys, time
from pathlib import Path
from tests.clients import envs
target, log = Path(sys.argv[1]), Path(sys.argv[2])
def build(path):
    path.mkdir()
    with open(log, "a") as f:
        f.write("built\\n")
    time.sleep(1.5)  # long enough for the other process to arrive while this one builds
    (path / "thing").write_text("ok")
print(envs._built(target, build) / "thing")
"""


def test_two_processes_build_an_environment_once(tmp_path):
    target, log = tmp_path / "env-abc", tmp_path / "builds.log"
    argv = [sys.executable, "-c", BUILDER, str(target), str(log)]
    procs = [subprocess.Popen(argv, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert log.read_text() == "built\n"
    assert outs == [str(target / "thing")] * 2 and (target / "thing").read_text() == "ok"


def test_a_half_built_environment_is_built_again(tmp_path):
    target, log = tmp_path / "env-abc", tmp_path / "builds.log"
    target.mkdir()
    (target / "leftover").write_text("from a build that was killed")
    done = subprocess.run([sys.executable, "-c", BUILDER, str(target), str(log)], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "built\n" and not (target / "leftover").exists()
