"""Peak resident memory of the native stack's processes, and of the runs they start."""

from __future__ import annotations

import threading

import psutil

from wharf_infra.native.settings import settings


def _stack_pids() -> list[int]:
    pids = []
    for service in ("minio", "nessie", "trino", "dagster", "dagster-daemon"):
        path = settings().pid_file(service)
        if path.exists():
            pids.append(int(path.read_text()))
    pids += [p.pid for p in psutil.process_iter(["name", "username"]) if p.info["name"] == "postgres"]
    return pids


def _is_run(process: psutil.Process) -> bool:
    command = " ".join(process.cmdline())
    return "spawn_main" in command or "execute_run" in command


class PeakMemory:
    """Samples the summed RSS of the stack's processes (and their children) twice a second, and the
    largest RSS of one run's process (a code server's `multiprocessing` child, or `execute_run`)."""

    def __init__(self) -> None:
        self.peak = 0
        self.run_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in _stack_pids():
                try:
                    process = psutil.Process(pid)
                    family = (process, *process.children(recursive=True))
                    total += sum(p.memory_info().rss for p in family)
                    runs = [p.memory_info().rss for p in family if _is_run(p)]
                    self.run_peak = max(self.run_peak, *runs, 0)
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
