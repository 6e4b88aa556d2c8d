"""The landing sensor: every file waiting under bioreactor/ ends ingested or quarantined.

It reconciles what waits in the landing store with the runs of the ingest job, instead of keeping
a time cursor: a waiting file with no run in flight gets one, so a run that failed (to launch,
or on its way) is tried again on a later tick, up to `MAX_ATTEMPTS` per upload; after that the
file is quarantined (`ingest_failed`) with the runs to look at. Ingested files leave the waiting
prefix (processed/<day>/…), so a tick lists only what still waits: its cost does not grow with
history. The sensor is the one retrier of these runs (Dagster's own run retries are off for them).
"""

import dagster as dg

from bioreactor.assets import BATCHES, batches, bioreactor_readings
from bioreactor.batch_files import LANDING_PREFIX, RejectedFile, batch_id_of, quarantine
from wharf_shared.environment import EXCLUSIVE_RUN_TAG
from wharf_shared.landing import LandingObject, LandingStore

MAX_FILES_PER_TICK = 50
MAX_ATTEMPTS = 3
KEY_TAG = "wharf/landing_key"
ETAG_TAG = "wharf/landing_etag"  # a re-upload of the same key is a new upload
NOT_FINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

ingest_job = dg.define_asset_job(
    "bioreactor_ingest_job", selection=[bioreactor_readings], partitions_def=batches
)


def _in_flight(instance: dg.DagsterInstance) -> set[str]:
    records = instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name, statuses=NOT_FINISHED))
    return {key for r in records if (key := r.dagster_run.tags.get(KEY_TAG))}


def _history(instance: dg.DagsterInstance, obj: LandingObject) -> tuple[int, int]:
    """(runs, failed runs) so far for this upload of the file."""
    runs = dg.RunsFilter(job_name=ingest_job.name, tags={KEY_TAG: obj.key, ETAG_TAG: obj.etag})
    failed = dg.RunsFilter(
        job_name=ingest_job.name,
        tags=runs.tags,
        statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
    )
    return instance.get_runs_count(runs), instance.get_runs_count(failed)


def _request(obj: LandingObject, batch_id: str, runs: int, failed: int) -> dg.RunRequest:
    config = {"key": obj.key, "attempt": failed}
    return dg.RunRequest(
        run_key=f"{obj.key}@{obj.etag}#{runs}",
        partition_key=batch_id,
        run_config={"ops": {bioreactor_readings.node_def.name: {"config": config}}},
        # One run of a batch at a time (the platform's run coordinator limits this tag to one run
        # per value): a duplicate's check and a first upload's append never interleave.
        tags={
            KEY_TAG: obj.key,
            ETAG_TAG: obj.etag,
            EXCLUSIVE_RUN_TAG: f"bioreactor/{batch_id}",
            "dagster/max_retries": "0",
        },
    )


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ingests every file waiting under landing/bioreactor/, retrying failed runs.",
)
def bioreactor_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingStore) -> dg.SensorResult:
    in_flight = _in_flight(context.instance)
    run_requests: list[dg.RunRequest] = []
    new_batches: list[str] = []
    for obj in landing.list(LANDING_PREFIX):
        if obj.key in in_flight:
            continue
        if len(run_requests) == MAX_FILES_PER_TICK:
            break  # the rest on the next tick
        try:
            batch_id = batch_id_of(obj.key)
            runs, failed = _history(context.instance, obj)
            if failed >= MAX_ATTEMPTS:
                raise RejectedFile(
                    "ingest_failed",
                    f"{obj.key}: {failed} ingestion runs failed (runs tagged {KEY_TAG}={obj.key}); "
                    f"fix their cause, then move the file back under {LANDING_PREFIX}",
                )
        except RejectedFile as rejection:  # no run can take it: quarantine it here and go on
            context.log.warning(f"quarantined {obj.key}: {rejection}")
            quarantine(landing, obj.key, rejection)
            continue
        if batch_id not in new_batches and not context.instance.has_dynamic_partition(BATCHES, batch_id):
            new_batches.append(batch_id)
        run_requests.append(_request(obj, batch_id, runs, failed))
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[batches.build_add_request(new_batches)] if new_batches else [],
    )
