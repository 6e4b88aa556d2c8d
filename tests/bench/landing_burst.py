"""Landing latency on the native stack, through its daemon and landing sensor (the stack is started
here if it is not running, and stopped after). Each figure is from an upload until the file has
left bioreactor/ (its rows committed, the file moved):

1. Single files: `SINGLES` uploads spaced `SPACING_S` apart; p50 and p95 (goal: p95 <= 30 s), and
   where the time went, as medians over their runs: sensor (upload until the run exists), queue
   (until it is dequeued), start-up (until its step starts), read, commit and move (the step's own
   figures), and the rest (the step's end until the file is seen gone, polled every 0.5 s).
2. A site's burst: 100 small files uploaded over 20 s amid 10 rejects, a re-upload and a
   1M-reading file; seconds from the last upload until the last of the 100 is in the lake
   (goal: <= 45 s).
3. One file of 1,000,000 readings alone (goal: <= 20 s).
4. One file of 10,000,000 readings: seconds, and the peak resident memory of the run's process.

Writes batches `BENCH-<time>-…` into the stack's lake.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import dagster as dg
import numpy as np
import pyarrow as pa
from stack_memory import PeakMemory

from bioreactor.batch_files import LANDING_PREFIX
from bioreactor.generate import bad_file, batch_table, to_parquet
from bioreactor.sensors import ingest_job, landing_keys
from wharf_infra.native import stack as native_stack
from wharf_infra.native.dagster import dagster_home, platform_env
from wharf_infra.native.services import s3_client

SINGLES, SPACING_S = 100, 3.0
BURST, BURST_OVER_S, BURST_MINUTES = 100, 20.0, 60
START = datetime(2025, 6, 1, tzinfo=UTC)
TIMEOUT_S = 1800
BUCKET = "landing"
STEPS = ("sensor", "queue", "start-up", "read", "commit", "move", "rest")


def _key(batch_id: str) -> str:
    return f"{LANDING_PREFIX}{batch_id}.parquet"


def _readings(batch_id: str, rows: int, every: timedelta) -> bytes:
    """A batch of `rows` readings `every` apart, made with numpy (a Python loop would take minutes)."""
    rng = np.random.default_rng(0)
    micros = int(START.timestamp() * 1e6) + np.arange(rows, dtype=np.int64) * (
        every // timedelta(microseconds=1)
    )
    return to_parquet(
        pa.table(
            {
                "batch_id": pa.array([batch_id] * rows, pa.string()),
                "ts": pa.array(micros, pa.timestamp("us", tz="UTC")),
                "temperature_c": np.round(37 + rng.normal(0, 0.15, rows), 2),
                "ph": np.round(7.1 + rng.normal(0, 0.02, rows), 3),
                "dissolved_oxygen_pct": np.round(50 + rng.normal(0, 2, rows), 1),
                "agitation_rpm": np.round(150 + rng.normal(0, 3, rows), 1),
            }
        )
    )


class GoneWatch:
    """When each watched key left bioreactor/, from a listing every half second."""

    def __init__(self) -> None:
        self.gone: dict[str, float] = {}
        self.watched: dict[str, float] = {}  # key -> when its upload ended
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = s3_client()
        while not self._stop.wait(0.5):
            listed_from = time.time()  # a listing begun before an upload ended cannot tell
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=LANDING_PREFIX)
            waiting = {o["Key"] for page in pages for o in page.get("Contents", [])}
            now = time.time()
            for key, uploaded in list(self.watched.items()):
                if uploaded < listed_from and key not in waiting and key not in self.gone:
                    self.gone[key] = now

    def until_gone(self, keys: Iterable[str]) -> float:
        """The time the last of `keys` left; raises after TIMEOUT_S."""
        keys = set(keys)
        deadline = time.monotonic() + TIMEOUT_S
        while not keys <= set(self.gone):
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(keys - set(self.gone))} files still wait after {TIMEOUT_S} s")
            time.sleep(0.5)
        return max(self.gone[k] for k in keys)

    def __enter__(self) -> GoneWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _upload(watch: GoneWatch, batch_id: str, data: bytes) -> float:
    s3_client().put_object(Bucket=BUCKET, Key=_key(batch_id), Body=data)
    watch.watched.setdefault(_key(batch_id), time.time())
    return watch.watched[_key(batch_id)]


def _run_of(instance: dg.DagsterInstance, key: str) -> dg.RunRecord | None:
    """The run that ingested `key` (the last one to carry it)."""
    for record in instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name), limit=300):
        if key in landing_keys(record.dagster_run):
            return record
    return None


def _breakdown(instance: dg.DagsterInstance, key: str, uploaded: float, gone: float) -> dict[str, float]:
    """Where one file's time went, from its run's events."""
    record = _run_of(instance, key)
    if record is None:
        return {}
    at: dict[dg.DagsterEventType, float] = {}
    metadata: dict[str, object] = {}
    for entry in instance.all_logs(record.dagster_run.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        at.setdefault(event.event_type, entry.timestamp)
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            metadata = {k: v.value for k, v in event.event_specific_data.metadata.items()}  # type: ignore[union-attr]
    created = record.create_timestamp.timestamp()
    kind = dg.DagsterEventType
    dequeued = at.get(kind.RUN_DEQUEUED, at.get(kind.RUN_STARTING, created))
    step_start, step_end = at.get(kind.STEP_START, dequeued), at.get(kind.STEP_SUCCESS, gone)
    inside = {s: float(metadata.get(f"{s}_seconds", 0.0)) for s in ("read", "commit", "move")}  # type: ignore[arg-type]
    return {
        "sensor": created - uploaded,
        "queue": dequeued - created,
        "start-up": step_start - dequeued,
        **inside,
        "rest": gone - step_end,
    }


def _singles(instance: dg.DagsterInstance, watch: GoneWatch, prefix: str) -> None:
    uploads = {}
    for n in range(SINGLES):
        batch_id = f"{prefix}single-{n:03d}"
        uploads[batch_id] = _upload(watch, batch_id, to_parquet(batch_table(batch_id, START, 60, seed=n)))
        time.sleep(SPACING_S)
    watch.until_gone(_key(b) for b in uploads)
    latency = sorted(watch.gone[_key(b)] - t for b, t in uploads.items())
    p50, p95 = statistics.median(latency), latency[int(0.95 * len(latency)) - 1]
    print(f"\n{SINGLES} single files, one every {SPACING_S:g} s")
    print(f"  upload to lake:    p50 {p50:6.1f} s   p95 {p95:6.1f} s   (goal p95 <= 30 s)")
    parts = [_breakdown(instance, _key(b), t, watch.gone[_key(b)]) for b, t in uploads.items()]
    parts = [p for p in parts if p]
    medians = {step: statistics.median(p[step] for p in parts) for step in STEPS}
    print("  median breakdown:  " + "  ".join(f"{step} {seconds:.1f} s" for step, seconds in medians.items()))


def _site_burst(watch: GoneWatch, prefix: str) -> None:
    small = [f"{prefix}burst-{n:03d}" for n in range(BURST)]
    others: list[tuple[str, bytes]] = [
        (
            f"{prefix}reject-{n}",
            bad_file("corrupt" if n % 2 else "out-of-range", f"{prefix}reject-{n}", START, n),
        )
        for n in range(10)
    ]
    others.append((small[0], to_parquet(batch_table(small[0], START, BURST_MINUTES, seed=99))))  # re-upload
    others.append(
        (f"{prefix}burst-large", _readings(f"{prefix}burst-large", 1_000_000, timedelta(seconds=2)))
    )
    files = [(b, to_parquet(batch_table(b, START, BURST_MINUTES, seed=0))) for b in small]
    every = len(files) // len(others)
    for n, other in enumerate(others):  # the others spread through the small files
        files.insert(n * (every + 1) + every // 2, other)
    pause = BURST_OVER_S / len(files)
    for batch_id, data in files:
        last = _upload(watch, batch_id, data)
        time.sleep(pause)
    done = watch.until_gone(_key(b) for b in small)
    print(
        f"\nsite burst: {BURST} files of {BURST_MINUTES} readings over {BURST_OVER_S:g} s, amid 10 rejects,"
    )
    print("  a re-upload and a 1,000,000-reading file")
    print(f"  last of the {BURST} in the lake: {done - last:6.1f} s after the last upload   (goal <= 45 s)")


def _large(watch: GoneWatch, prefix: str, rows: int, every: timedelta, goal: str) -> None:
    batch_id = f"{prefix}large-{rows}"
    data = _readings(batch_id, rows, every)
    with PeakMemory() as memory:
        uploaded = _upload(watch, batch_id, data)
        seconds = watch.until_gone([_key(batch_id)]) - uploaded
    print(f"\none file of {rows:,} readings ({len(data) / 2**20:.0f} MiB parquet)")
    print(f"  upload to lake:    {seconds:6.1f} s   {goal}")
    print(
        f"  peak resident memory of its run: {memory.run_peak / 2**20:.0f} MiB "
        f"(the stack and its runs: {memory.peak / 2**30:.2f} GiB)"
    )


def main() -> None:
    large_only = sys.argv[1:] == ["--large-only"]  # the 1M and 10M files alone
    started_here = native_stack.ensure_up()
    os.environ.update(platform_env())
    prefix = f"BENCH-{int(time.time())}-"
    try:
        with dg.DagsterInstance.from_config(str(dagster_home())) as instance, GoneWatch() as watch:
            if not large_only:
                _singles(instance, watch, prefix)
                _site_burst(watch, prefix)
            _large(watch, prefix, 1_000_000, timedelta(seconds=2), "(goal <= 20 s)")
            _large(watch, prefix, 10_000_000, timedelta(milliseconds=500), "")
    finally:
        if started_here:
            native_stack.down()


if __name__ == "__main__":
    main()
