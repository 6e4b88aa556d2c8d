"""Starting, watching and stopping the stack's processes: each one has a pid file and a log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from wharf_infra.native.settings import settings


class StackError(RuntimeError):
    """A service could not be obtained or started; the message says which and where its log is."""


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; a child of ours that has exited is reaped, not counted."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # started by another process (an earlier `stack up`)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def running_pid(service: str) -> int | None:
    path = settings().pid_file(service)
    if not path.exists():
        return None
    pid = int(path.read_text().strip())
    if not _alive(pid):
        path.unlink(missing_ok=True)
        return None
    return pid


def start(
    service: str, argv: Sequence[str | Path], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> int:
    """Start `argv` in its own session, logging to the service's log; record its pid."""
    log = settings().log(service)
    log.parent.mkdir(parents=True, exist_ok=True)
    settings().pid_file(service).parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(a) for a in argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    settings().pid_file(service).write_text(str(process.pid))
    return process.pid


def stop(service: str, timeout: float = 30.0) -> bool:
    """Stop the service's process group (TERM, then KILL); return whether one was running."""
    pid = running_pid(service)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.3)
    else:
        os.killpg(pid, signal.SIGKILL)
    settings().pid_file(service).unlink(missing_ok=True)
    return True


def http_get(url: str, timeout: float = 3.0) -> bytes | None:
    """The body of a 2xx answer from `url` (loopback only), or None when there is none (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read() if 200 <= int(response.status) < 300 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def http_ok(url: str, timeout: float = 3.0) -> bool:
    return http_get(url, timeout) is not None


def _log_tail(service: str, lines: int = 15) -> str:
    log = settings().log(service)
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def wait_until(service: str, check: Callable[[], bool], timeout: float, watch_process: bool = True) -> None:
    """Poll `check` with visible progress until it passes; fail naming the service's log.

    With `watch_process`, a process that exits while starting fails at once, with its log's tail.
    """
    start_time = time.monotonic()
    next_note = 0.0
    while not check():
        if watch_process and running_pid(service) is None:
            raise StackError(
                f"{service} exited while starting; {settings().log(service)} ends with:\n{_log_tail(service)}"
            )
        elapsed = time.monotonic() - start_time
        if elapsed > timeout:
            raise StackError(f"{service} not healthy after {timeout:.0f} s; see {settings().log(service)}")
        if elapsed >= next_note:
            print(f"  waiting for {service} ({elapsed:.0f} s)", file=sys.stderr, flush=True)
            next_note += 10
        time.sleep(1.0)
    print(f"  {service} healthy after {time.monotonic() - start_time:.0f} s", file=sys.stderr, flush=True)
