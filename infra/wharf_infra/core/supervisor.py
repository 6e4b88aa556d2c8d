"""Local processes with a pid file and a log each: started, waited for, stopped.

The native stack and the kwok control plane both run their services this way, each under its own
state folder (`run/<name>.pid`, `logs/<name>.log`), so a later command (or a test's teardown) finds
and stops what an earlier one started.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psutil


class ProcessError(RuntimeError):
    """A process could not be started or did not become healthy; the message names its log."""


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; a child of ours that has exited is reaped, not counted."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # started by another process (an earlier command)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _family(pid: int) -> list[psutil.Process]:
    """`pid`, its descendants and the members of its process group."""
    leader = psutil.Process(pid)
    family = {leader, *leader.children(recursive=True)}
    for process in psutil.process_iter():
        with suppress(psutil.NoSuchProcess, ProcessLookupError):
            if os.getpgid(process.pid) == pid:
                family.add(process)
    return list(family)


@dataclass(frozen=True)
class ProcessSpec:
    """One process to keep running: how to start it, and when it is ready (None: once started)."""

    name: str
    argv: Sequence[str | Path]
    ready: Callable[[], bool] | None = None
    timeout: float = 300.0
    env: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Supervisor:
    state_dir: Path

    def log(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.state_dir / "run" / f"{name}.pid"

    def running_pid(self, name: str) -> int | None:
        path = self.pid_file(name)
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        if not _alive(pid):
            path.unlink(missing_ok=True)
            return None
        return pid

    def start(
        self,
        name: str,
        argv: Sequence[str | Path],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> int:
        """Start `argv` in its own session, logging to the process's log; record its pid."""
        log = self.log(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file(name).parent.mkdir(parents=True, exist_ok=True)
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
        self.pid_file(name).write_text(str(process.pid))
        return process.pid

    def ensure(self, spec: ProcessSpec) -> None:
        """Start `spec` unless it runs already, then wait until it is ready."""
        if self.running_pid(spec.name) is None:
            self.start(spec.name, spec.argv, spec.env)
        if spec.ready is not None:
            self.wait_until(spec.name, spec.ready, spec.timeout)

    def stop(self, name: str, timeout: float = 30.0) -> bool:
        """Stop the process, its group and every descendant, even one that left the group (Dagster's
        code servers start in sessions of their own): TERM, up to `timeout` to exit, then KILL.
        Return whether one was running."""
        pid = self.running_pid(name)
        if pid is None:
            return False
        family = _family(pid)
        for process in family:
            with suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(family, timeout=timeout)
        for process in alive:
            with suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=10)
        _alive(pid)  # reap it, if it is our child
        self.pid_file(name).unlink(missing_ok=True)
        return True

    def leftovers(self) -> list[str]:
        """Processes still working in or on this state folder (cwd or arguments), as `pid cmdline`:
        after every service stopped, there should be none."""
        root = str(self.state_dir.resolve())
        found = []
        for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if process.pid != os.getpid() and (
                root in cmdline or (process.info["cwd"] or "").startswith(root)
            ):
                found.append(f"{process.pid} {cmdline}")
        return found

    def log_tail(self, name: str, lines: int = 15) -> str:
        log = self.log(name)
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def wait_until(
        self, name: str, check: Callable[[], bool], timeout: float, watch_process: bool = True
    ) -> None:
        """Poll `check` with visible progress until it passes; fail naming the process's log.

        With `watch_process`, a process that exits while starting fails at once, with its log's tail.
        """
        start_time = time.monotonic()
        next_note = 0.0
        while not check():
            if watch_process and self.running_pid(name) is None:
                raise ProcessError(
                    f"{name} exited while starting; {self.log(name)} ends with:\n{self.log_tail(name)}"
                )
            elapsed = time.monotonic() - start_time
            if elapsed > timeout:
                raise ProcessError(f"{name} not healthy after {timeout:.0f} s; see {self.log(name)}")
            if elapsed >= next_note:
                print(f"  waiting for {name} ({elapsed:.0f} s)", file=sys.stderr, flush=True)
                next_note += 10
            time.sleep(1.0)
        print(f"  {name} healthy after {time.monotonic() - start_time:.0f} s", file=sys.stderr, flush=True)


def http_get(url: str, timeout: float = 3.0) -> bytes | None:
    """The body of a 2xx answer from `url` (loopback only), or None when there is none (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read() if 200 <= int(response.status) < 300 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def http_ok(url: str, timeout: float = 3.0) -> bool:
    return http_get(url, timeout) is not None
