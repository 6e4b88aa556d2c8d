"""The supervisor's stop ends every process a service spawned, real processes, no stand-ins."""

import sys
import time
from pathlib import Path

import psutil

from wharf_infra.core.supervisor import Supervisor

# A service that, like Dagster's webserver, starts a helper in a session of its own (out of its
# process group) and one in its group that ignores SIGTERM; each writes its pid.
SPAWNER = """
import signal, subprocess, sys, time
deaf = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
sleeper = [sys.executable, "-c", deaf]
escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
stubborn = subprocess.Popen(sleeper)
open(sys.argv[1], "w").write(f"{escaped.pid} {stubborn.pid}")
time.sleep(600)
"""


def test_stop_ends_the_service_its_group_and_what_left_the_group(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    pids_file = tmp_path / "pids"
    leader = supervisor.start("spawner", [sys.executable, "-c", SPAWNER, pids_file], cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not pids_file.exists() or not pids_file.read_text():
        assert time.monotonic() < deadline, supervisor.log_tail("spawner")
        time.sleep(0.1)
    spawned = [int(pid) for pid in pids_file.read_text().split()]
    assert all(psutil.pid_exists(pid) for pid in (leader, *spawned))
    assert {int(line.split()[0]) for line in supervisor.leftovers()} >= {leader, *spawned}

    assert supervisor.stop("spawner", timeout=3)
    survivors = [pid for pid in (leader, *spawned) if psutil.pid_exists(pid) and _running(pid)]
    assert survivors == []
    assert supervisor.running_pid("spawner") is None
    assert supervisor.leftovers() == []


def _running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
