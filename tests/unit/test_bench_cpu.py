"""CPU accounting of the benchmark: /proc/<pid>/stat parsing and process trees."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.cpu import delta, parse_stat, snapshot, tree


def test_stat_fields_are_read_after_a_command_name_with_spaces_and_parentheses() -> None:
    # Field 3 is the state, fields 14..17 follow it at offsets 11..14.
    rest = ["S", *(str(n) for n in range(4, 53))]
    text = "4242 (postgres: (bench) x) " + " ".join(rest)
    assert parse_stat(text) == (14, 15, 16, 17)


def test_this_process_stat_parses() -> None:
    with open(f"/proc/{os.getpid()}/stat") as f:
        utime, stime, cutime, cstime = parse_stat(f.read())
    assert min(utime, stime, cutime, cstime) >= 0


def test_a_tree_counts_the_time_of_a_child_that_has_exited() -> None:
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    before = snapshot({"me": os.getpid()})
    subprocess.run([sys.executable, "-c", burn], check=True)
    spent = delta(before, snapshot({"me": os.getpid()}))
    # The child's 0.3 s reached this process's cutime/cstime when it was reaped.
    assert spent["me"] >= 0.25


def test_a_tree_holds_its_live_children_and_a_missing_root_counts_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in tree(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert snapshot({"none": None}) == {"none": 0.0}
