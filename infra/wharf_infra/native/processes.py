"""The native stack's processes (under its state folder) and its loopback health probes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from wharf_infra.core.supervisor import ProcessError, Supervisor, http_get, http_ok
from wharf_infra.native.settings import settings

StackError = ProcessError  # a native service could not be obtained or started


def _supervisor() -> Supervisor:
    return Supervisor(settings().state_dir)


def running_pid(service: str) -> int | None:
    return _supervisor().running_pid(service)


def start(
    service: str, argv: Sequence[str | Path], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> int:
    return _supervisor().start(service, argv, env, cwd)


def stop(service: str, timeout: float = 30.0) -> bool:
    return _supervisor().stop(service, timeout)


def leftovers() -> list[str]:
    """The stack's processes still running (`pid cmdline`): none once the stack is down."""
    return _supervisor().leftovers()


def wait_until(service: str, check: Callable[[], bool], timeout: float, watch_process: bool = True) -> None:
    _supervisor().wait_until(service, check, timeout, watch_process)


__all__ = ["StackError", "http_get", "http_ok", "leftovers", "running_pid", "start", "stop", "wait_until"]
