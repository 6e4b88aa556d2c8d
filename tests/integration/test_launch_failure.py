"""A run that fails to launch is retried, and its landing file still ends in the lake.

The daemon cannot launch a run while the location's code server is gone (as when it answers too
slowly under load). To fail the launch of the sensor's own run every time, not by chance: the
batch's exclusive slot is held by a run in flight (an operator's run of that batch, recorded in
the stack's instance), so the platform's run coordinator keeps the sensor's run queued; the test
then kills the daemon's bioreactor code servers, frees the slot, and goes on killing them until the
dequeued run has failed. Then it stops: the daemon starts its code servers again (it reloads its
workspace every minute), the landing sensor finds the file still waiting and its run failed, and
asks another run, which ingests it.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import dagster as dg
import psutil
from conftest import MINUTES, START, code_servers, eventually, landing_key, wait_for_runs
from dagster._core.test_utils import create_run_for_test

from bioreactor.assets import BATCHES
from bioreactor.generate import batch_table, to_parquet
from bioreactor.sensors import FILE_TAG_PREFIX, ingest_job
from wharf_infra.native import processes
from wharf_infra.native.services import s3_client
from wharf_shared.environment import EXCLUSIVE_RUN_TAG

BATCH = "LAUNCH-IT"  # not B-IT-*: the other tests count those batches
LOCATION = "bioreactor"
HELD_S = 20  # several rounds of the daemon's run queue (one every few seconds)


def _run(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    run = instance.get_run_by_id(run_id)
    assert run is not None, f"run {run_id} is not in the stack's instance"
    return run


def _runs_of_batch(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """The ingest runs that carry this batch's file, newest first."""
    records = instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name))
    return [r.dagster_run for r in records if FILE_TAG_PREFIX + BATCH in r.dagster_run.tags]


@contextmanager
def _code_servers_killed(daemon: int) -> Iterator[list[int]]:
    """Kills the daemon's bioreactor code servers as soon as they appear, until the block ends;
    yields the pids killed."""
    stop = threading.Event()
    killed: list[int] = []

    def kill() -> None:
        while not stop.is_set():
            for server in code_servers(daemon, LOCATION):
                with suppress(psutil.NoSuchProcess):
                    server.kill()
                    killed.append(server.pid)
            stop.wait(0.2)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    try:
        yield killed
    finally:
        stop.set()
        killer.join()


def test_a_run_that_failed_to_launch_is_retried_and_its_file_ingested(
    stack: dict[str, str], stack_instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    daemon = processes.running_pid("dagster-daemon")
    assert daemon is not None, "the stack's daemon is not running"
    stack_instance.add_dynamic_partitions(BATCHES, [BATCH])  # a known batch: its runs are exclusive
    holder = create_run_for_test(
        stack_instance,
        job_name="operator_run",
        status=dg.DagsterRunStatus.STARTED,
        tags={EXCLUSIVE_RUN_TAG: f"{LOCATION}/{BATCH}"},
    )
    s3_client().put_object(
        Bucket="landing", Key=landing_key(BATCH), Body=to_parquet(batch_table(BATCH, START, MINUTES, 11))
    )
    (held,) = eventually("the landing sensor asks a run for the file", lambda: _runs_of_batch(stack_instance))
    time.sleep(HELD_S)
    assert _run(stack_instance, held.run_id).status == dg.DagsterRunStatus.QUEUED  # its slot is taken

    with _code_servers_killed(daemon) as killed:
        stack_instance.report_run_canceled(holder)  # the batch's slot is free: the run is dequeued
        eventually("the dequeued run fails to launch", lambda: _run(stack_instance, held.run_id).is_finished)
    failed_at = time.time()
    assert killed, "no bioreactor code server of the daemon was found"
    assert _run(stack_instance, held.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not stack_instance.get_records_for_run(held.run_id, of_type=dg.DagsterEventType.RUN_START).records

    retry = wait_for_runs(stack_instance, [landing_key(BATCH)], failed_at)[landing_key(BATCH)]
    assert retry.status == dg.DagsterRunStatus.SUCCESS
    assert retry.tags[FILE_TAG_PREFIX + BATCH] == held.tags[FILE_TAG_PREFIX + BATCH]  # the same upload
    rows = resources["trino"].query(
        "select count(*) from lake.raw.bioreactor_readings where batch_id = ?", (BATCH,)
    )
    assert rows == [(MINUTES,)]
    processed = s3_client().list_objects_v2(Bucket="landing", Prefix="processed/").get("Contents", [])
    assert any(o["Key"].endswith(f"/{landing_key(BATCH)}") for o in processed)
