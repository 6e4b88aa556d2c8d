"""The landing sensor's tick against the history behind it: 10 files waiting, and 10, 1,000 or
10,000 files already ingested. Ingested files leave the waiting prefix (processed/<day>/), so the
tick should cost the same whatever the history; the figures say whether it does.

Runs on a folder landing store and a temporary Dagster instance (no services needed).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from bioreactor.generate import batch_table, to_parquet
from bioreactor.sensors import bioreactor_landing_sensor
from wharf_shared.landing import LandingStore

HISTORY = (10, 1_000, 10_000)
WAITING = 10
RUNS = 5


def _tick_seconds(history: int) -> float:
    with tempfile.TemporaryDirectory() as folder, dg.instance_for_test() as instance:
        landing = LandingStore(url=Path(folder).as_uri())
        day = f"processed/{datetime.now(UTC):%Y-%m-%d}/bioreactor"
        done = Path(folder) / day
        done.mkdir(parents=True)
        for n in range(history):  # ingested files: the history a tick must not pay for
            (done / f"H-{n:05d}.parquet").write_bytes(b"x")
        data = to_parquet(batch_table("W", datetime(2025, 6, 1, tzinfo=UTC), 10, 0))
        for n in range(WAITING):
            landing.write(f"bioreactor/W-{n:02d}.parquet", data)
        timings = []
        for _ in range(RUNS):
            context = dg.build_sensor_context(instance=instance, resources={"landing": landing})
            start = time.perf_counter()
            result = bioreactor_landing_sensor(context)
            timings.append(time.perf_counter() - start)
            assert isinstance(result, dg.SensorResult) and len(result.run_requests or []) == 1  # a burst
        return statistics.median(timings)


def main() -> None:
    print(f"landing sensor tick, {WAITING} files waiting (median of {RUNS}):")
    for history in HISTORY:
        print(f"  {history:>6} files already ingested: {_tick_seconds(history) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
