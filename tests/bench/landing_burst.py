"""Landing figures on the native stack, through its daemon and landing sensor (the stack is started
here if it is not running, and stopped after):

1. A burst: 100 small batch files uploaded at once. Seconds from the first upload until every batch
   is in the lake and nothing waits under bioreactor/, and the runs that took (goal: <= 120 s).
2. One large file of 1,000,000 readings: seconds from its upload until it is in the lake.
3. Peak resident memory of the stack's processes, and of the runs they start, during 1 and 2.

Writes batches `BENCH-<time>-…` into the stack's lake.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import pyarrow as pa
from stack_memory import PeakMemory

from bioreactor.batch_files import LANDING_PREFIX
from bioreactor.generate import batch_table, to_parquet
from bioreactor.sensors import ingest_job
from wharf_infra.native import __main__ as stack_cli
from wharf_infra.native.dagster import dagster_home, platform_env
from wharf_infra.native.services import s3_client

BURST = 100
BURST_MINUTES = 60  # readings per small file
LARGE_ROWS = 1_000_000
LARGE_STEP = timedelta(seconds=2)  # 1M readings span 23 days: within the batch contract
START = datetime(2025, 6, 1, tzinfo=UTC)
TIMEOUT_S = 1800
BUCKET = "landing"


def _waiting(keys: set[str]) -> set[str]:
    listed = s3_client().list_objects_v2(Bucket=BUCKET, Prefix=LANDING_PREFIX).get("Contents", [])
    return keys & {o["Key"] for o in listed}


def _until_ingested(keys: set[str], started: float) -> float:
    """Seconds from `started` until none of `keys` waits any more."""
    deadline = started + TIMEOUT_S
    while _waiting(keys):
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(_waiting(keys))} files still wait after {TIMEOUT_S} s")
        time.sleep(1)
    return time.monotonic() - started


def _large_table(batch_id: str) -> pa.Table:
    base = batch_table(batch_id, START, 1000, seed=0)
    table = pa.concat_tables([base] * (LARGE_ROWS // base.num_rows))
    ts = pa.array([START + LARGE_STEP * i for i in range(LARGE_ROWS)], pa.timestamp("us", tz="UTC"))
    return table.set_column(table.schema.get_field_index("ts"), "ts", ts)


def _runs_since(instance: dg.DagsterInstance, since: float) -> list[dg.DagsterRun]:
    records = instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name))
    return [r.dagster_run for r in records if r.create_timestamp.timestamp() >= since]


def _batches_in_lake(prefix: str) -> int:
    from wharf_shared.profiles import shared_resources

    rows = shared_resources("services")["trino"].query(
        f"select count(distinct batch_id) from lake.raw.bioreactor_readings where batch_id like '{prefix}%'"
    )
    return int(rows[0][0])


def main() -> None:
    started_here = stack_cli.ensure_up()
    os.environ.update(platform_env())
    prefix = f"BENCH-{int(time.time())}-"
    small = {
        batch_id: to_parquet(batch_table(batch_id, START, BURST_MINUTES, seed=0))
        for batch_id in (f"{prefix}{n:03d}" for n in range(BURST))
    }
    large_id = f"{prefix}large"
    large = to_parquet(_large_table(large_id))
    s3 = s3_client()
    try:
        with dg.DagsterInstance.from_config(str(dagster_home())) as instance, PeakMemory() as memory:
            since = time.time() - 1
            started = time.monotonic()
            for batch_id, data in small.items():
                s3.put_object(Bucket=BUCKET, Key=f"{LANDING_PREFIX}{batch_id}.parquet", Body=data)
            uploaded = time.monotonic() - started
            burst_seconds = _until_ingested({f"{LANDING_PREFIX}{b}.parquet" for b in small}, started)
            burst_runs = _runs_since(instance, since)

            started = time.monotonic()
            s3.put_object(Bucket=BUCKET, Key=f"{LANDING_PREFIX}{large_id}.parquet", Body=large)
            large_seconds = _until_ingested({f"{LANDING_PREFIX}{large_id}.parquet"}, started)
        in_lake = _batches_in_lake(prefix)
    finally:
        if started_here:
            stack_cli.down()
    print(f"\nlanding burst: {BURST} files of {BURST_MINUTES} readings, uploaded in {uploaded:.1f} s")
    print(f"  in the lake after:    {burst_seconds:8.1f} s  (goal <= 120 s)")
    statuses = ", ".join(run.status.value for run in burst_runs)
    print(f"  runs:                 {len(burst_runs):8d}    ({statuses})")
    print(f"one file of {LARGE_ROWS:,} readings ({len(large) / 2**20:.1f} MiB parquet)")
    print(f"  in the lake after:    {large_seconds:8.1f} s")
    print(f"batches of this bench in the lake: {in_lake} of {BURST + 1}")
    print(f"peak resident memory of the stack and its runs: {memory.peak / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
