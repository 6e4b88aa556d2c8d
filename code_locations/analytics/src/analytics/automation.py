"""When dbt runs: nightly in full, and after every bioreactor batch for the models it feeds."""

import dagster as dg
from dagster_dbt import build_dbt_asset_selection, build_schedule_from_dbt_selection

from analytics.assets import wharf_dbt_models
from analytics.translator import SENSOR_DRIVEN_TAG
from wharf_shared.environment import EXCLUSIVE_RUN_TAG

BIOREACTOR_READINGS = dg.AssetKey(["lake", "raw", "bioreactor_readings"])
# One dbt build at a time: the incremental models append the batches not yet in them, so two
# overlapping builds (two batches' runs, or one beside the nightly build) would both append the
# same batch. The platform's run queue holds the second until the first ends.
ONE_DBT_BUILD_AT_A_TIME = {EXCLUSIVE_RUN_TAG: "dbt/wharf"}

nightly_dbt_build = build_schedule_from_dbt_selection(
    [wharf_dbt_models],
    job_name="nightly_dbt_build",
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags=ONE_DBT_BUILD_AT_A_TIME,
)

bioreactor_models_job = dg.define_asset_job(
    "bioreactor_models_job",
    selection=build_dbt_asset_selection([wharf_dbt_models], dbt_select=f"tag:{SENSOR_DRIVEN_TAG}"),
    tags=ONE_DBT_BUILD_AT_A_TIME,
)


WAITING = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.QUEUED]


@dg.asset_sensor(
    asset_key=BIOREACTOR_READINGS,
    job=bioreactor_models_job,
    minimum_interval_seconds=15,  # marts fresh soon after a batch; a waiting run absorbs a burst
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the bioreactor models after each batch lands in the lake, unless a models "
    "run is already waiting to start: that one builds from every batch landed before it starts.",
)
def bioreactor_readings_sensor(
    context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry
) -> dg.RunRequest | dg.SkipReason:
    """One models run per batch would queue a burst's builds one behind another (one dbt build at a
    time), each rebuilding what the next rebuilds again; a waiting run already covers the batch."""
    batch = asset_event.dagster_event.partition if asset_event.dagster_event else None
    waiting = context.instance.get_runs_count(
        dg.RunsFilter(job_name=bioreactor_models_job.name, statuses=WAITING)
    )
    if waiting:
        return dg.SkipReason(f"batch {batch}: the models run waiting to start builds it")
    return dg.RunRequest(
        run_key=f"bioreactor_readings:{asset_event.run_id}:{batch}", tags={"wharf/trigger_batch": batch or ""}
    )
