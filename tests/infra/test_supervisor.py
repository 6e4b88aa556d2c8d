"""The supervisor's stop ends every process a service spawned, real processes, no stand-ins."""

import sys
import time
from pathlib import Path

import psutil
import pytest

from wharf_infra.core.supervisor import ProcessError, ProcessSpec, Supervisor

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


def test_ensure_starts_a_process_once_and_waits_until_it_is_ready(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    ready_file = tmp_path / "ready"
    service = (
        f"import pathlib, time; time.sleep(1); pathlib.Path({str(ready_file)!r}).touch(); time.sleep(600)"
    )
    spec = ProcessSpec("service", [sys.executable, "-c", service], ready=ready_file.exists, timeout=60)
    try:
        supervisor.ensure(spec)
        assert ready_file.exists()  # not back before it was ready
        first = supervisor.running_pid("service")
        supervisor.ensure(spec)
        assert supervisor.running_pid("service") == first  # a running process is not started twice
    finally:
        supervisor.stop("service", timeout=3)


def test_ensure_names_the_log_of_a_process_that_exits_while_starting(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    spec = ProcessSpec(
        "broken", [sys.executable, "-c", "print('no config'); raise SystemExit(3)"], ready=lambda: False
    )
    with pytest.raises(ProcessError, match="broken exited while starting") as error:
        supervisor.ensure(spec)
    assert "no config" in str(error.value)
