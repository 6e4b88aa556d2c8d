"""The landing sensor: every file waiting under bioreactor/ ends ingested or quarantined.

It reconciles what waits in the landing store with the runs of the ingest job, instead of keeping
a time cursor: a waiting file with no run in flight gets one, so a run that failed (to launch,
or on its way) is tried again on a later tick, up to `MAX_ATTEMPTS` per upload; after that the
file is quarantined (`ingest_failed`) with the runs to look at. Ingested files leave the waiting
prefix (processed/<day>/…), so a tick lists only what still waits: its cost does not grow with
history. The sensor is the one retrier of these runs (Dagster's own run retries are off for them).

Bursts cost few runs: the batches a tick adds to the dynamic partitions are contiguous, so their
files go to one run over that partition range (up to `MAX_FILES_PER_RUN` files and
`MAX_BYTES_PER_RUN` bytes; the rest next tick). A file of a batch that already exists (a re-upload,
a retry) gets a run of its own. Each run carries one tag per file (`wharf-landing/<batch_id>` = the
upload), and no batch is given to a run while another run of it is in flight, so the files of one
batch are ingested one after the other: the first is accepted, the next is a `duplicate`.
"""

import hashlib
from typing import Any

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PRIORITY_TAG,
)

from bioreactor.assets import BATCHES, batches, bioreactor_readings
from bioreactor.batch_files import LANDING_PREFIX, RejectedFile, batch_id_of, quarantine
from wharf_shared.environment import EXCLUSIVE_RUN_TAG
from wharf_shared.landing import LandingObject, LandingStore

MAX_FILES_PER_RUN = 100
MAX_BYTES_PER_RUN = 256 * 2**20  # a run keeps local copies of its files until their one commit
MAX_SINGLE_RUNS_PER_TICK = 50
MAX_ATTEMPTS = 3
INGEST_PRIORITY = "10"  # the run queue starts higher priorities first; other runs have 0
FILE_TAG_PREFIX = "wharf-landing/"  # + batch_id = the upload (key and etag) the run ingests
NOT_FINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

ingest_job = dg.define_asset_job("bioreactor_ingest_job", selection=[bioreactor_readings])


def _upload(obj: LandingObject) -> str:
    """One upload of a file: a re-upload of the same key is a new one."""
    return hashlib.sha256(f"{obj.key}@{obj.etag}".encode()).hexdigest()[:32]


def _in_flight(instance: dg.DagsterInstance) -> set[str]:
    """The batches some unfinished ingest run carries."""
    records = instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name, statuses=NOT_FINISHED))
    return {
        tag.removeprefix(FILE_TAG_PREFIX)
        for record in records
        for tag in record.dagster_run.tags
        if tag.startswith(FILE_TAG_PREFIX)
    }


def _history(instance: dg.DagsterInstance, obj: LandingObject, batch_id: str) -> tuple[int, int]:
    """(runs, failed runs) so far for this upload of the file."""
    tags = {FILE_TAG_PREFIX + batch_id: _upload(obj)}
    failed = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
    return (
        instance.get_runs_count(dg.RunsFilter(job_name=ingest_job.name, tags=tags)),
        instance.get_runs_count(dg.RunsFilter(job_name=ingest_job.name, tags=tags, statuses=failed)),
    )


def _request(files: list[tuple[LandingObject, str]], runs: int, failed: int) -> dg.RunRequest:
    """A run for `files` ((object, batch id) pairs, one per batch): one partition, or the range
    of new ones; `runs` and `failed` count earlier runs of these uploads."""
    uploads = {FILE_TAG_PREFIX + batch_id: _upload(obj) for obj, batch_id in files}
    first, last = files[0][1], files[-1][1]
    config = {"keys": [obj.key for obj, _ in files], "attempt": failed}
    # Landed files reach the lake before the queue's downstream runs (statistics, dbt) go on.
    tags = {**uploads, "dagster/max_retries": "0", PRIORITY_TAG: INGEST_PRIORITY}
    if len(files) == 1:
        # One run of a batch at a time, also against runs launched by hand (the platform's run
        # coordinator limits this tag to one run per value).
        tags[EXCLUSIVE_RUN_TAG] = f"bioreactor/{first}"
    else:
        tags |= {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    return dg.RunRequest(
        run_key=hashlib.sha256(repr(sorted(uploads.items())).encode()).hexdigest() + f"#{runs}",
        partition_key=first if len(files) == 1 else None,
        run_config={"ops": {bioreactor_readings.node_def.name: {"config": config}}},
        tags=tags,
    )


def landing_keys(run: dg.DagsterRun) -> list[str]:
    """The landing keys an ingest run was given (one run may carry a burst of files)."""
    config: dict[str, Any] = dict(run.run_config)
    keys: list[str] = config["ops"][bioreactor_readings.node_def.name]["config"]["keys"]
    return keys


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=5,  # the daemon's fastest; a tick lists only what waits: cheap
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ingests every file waiting under landing/bioreactor/, retrying failed runs.",
)
def bioreactor_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingStore) -> dg.SensorResult:
    busy = _in_flight(context.instance)  # batches with a run: their other files wait
    burst: list[tuple[LandingObject, str]] = []  # files of new batches: one run
    burst_bytes = burst_runs = burst_failed = 0
    singles: list[dg.RunRequest] = []
    for obj in landing.list(LANDING_PREFIX):
        try:
            batch_id = batch_id_of(obj.key)
            if batch_id in busy:
                continue
            runs, failed = _history(context.instance, obj, batch_id)
            if failed >= MAX_ATTEMPTS:
                raise RejectedFile(
                    "ingest_failed",
                    f"{obj.key}: {failed} ingestion runs failed (runs tagged "
                    f"{FILE_TAG_PREFIX}{batch_id}={_upload(obj)}); fix their cause, then move the "
                    f"file back under {LANDING_PREFIX}",
                )
        except RejectedFile as rejection:  # no run can take it: quarantine it here and go on
            context.log.warning(f"quarantined {obj.key}: {rejection}")
            quarantine(landing, obj.key, rejection)
            continue
        if context.instance.has_dynamic_partition(BATCHES, batch_id):
            if len(singles) < MAX_SINGLE_RUNS_PER_TICK:
                singles.append(_request([(obj, batch_id)], runs, failed))
                busy.add(batch_id)
        elif len(burst) < MAX_FILES_PER_RUN and (not burst or burst_bytes + obj.size <= MAX_BYTES_PER_RUN):
            burst.append((obj, batch_id))
            burst_bytes += obj.size
            burst_runs, burst_failed = max(burst_runs, runs), max(burst_failed, failed)
            busy.add(batch_id)
    new_batches = [batch_id for _, batch_id in burst]
    return dg.SensorResult(
        run_requests=[*singles, *([_request(burst, burst_runs, burst_failed)] if burst else [])],
        dynamic_partitions_requests=[batches.build_add_request(new_batches)] if new_batches else [],
    )
