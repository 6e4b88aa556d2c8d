"""One batch that fails a data-quality test is named and blocks no other, on the stack's daemon.

The batch meets the file contract but its logger was silent for two hours: the dbt test
`bioreactor_logging_gap` (severity warn, failing rows stored) flags it. It lands beside a clean
batch; the models run they trigger is green, names the gap batch alone, and both reach the mart.
"""

import time
from typing import Any

import dagster as dg
import pyarrow as pa
from conftest import START, eventually, landing_key, wait_for_runs

from analytics.automation import bioreactor_models_job
from bioreactor.generate import batch_table, to_parquet
from wharf_infra.native.services import s3_client

GAP, CLEAN = "DQ-GAP", "DQ-CLEAN"  # not B-IT-*: the nightly test counts those
MINUTES, SILENT = (60, 180), 240  # readings from minute 60 to 179 are missing
SILENCE_MINUTES = 120  # the 5-minute buckets 60 to 175 hold no reading: 24 of them
WAIT_S = 900
CHECK = "bioreactor_logging_gap"


def _batch(batch: str) -> pa.Table:
    table = batch_table(batch, START, SILENT, seed=11)
    if batch != GAP:
        return table
    return pa.concat_tables([table.slice(0, MINUTES[0]), table.slice(MINUTES[1])])


def _land_and_model(batches: tuple[str, ...], stack_instance: dg.DagsterInstance) -> dg.DagsterRun:
    """Upload the batches at once; return the first models run the daemon started after their
    ingestion ended (one created before and still waiting then builds them too)."""
    after = time.time() - 1
    keys = [landing_key(batch) for batch in batches]
    for batch, key in zip(batches, keys, strict=True):
        s3_client().put_object(Bucket="landing", Key=key, Body=to_parquet(_batch(batch)))
    ends = []
    for ingest in wait_for_runs(stack_instance, keys, after).values():
        assert ingest.status == dg.DagsterRunStatus.SUCCESS
        record = stack_instance.get_run_record_by_id(ingest.run_id)
        assert record is not None and record.end_time is not None
        ends.append(record.end_time)
    ingested = max(ends)

    def finished_models_run() -> dg.DagsterRun | None:
        runs = stack_instance.get_run_records(dg.RunsFilter(job_name=bioreactor_models_job.name), limit=20)
        started = sorted(
            (r for r in runs if r.start_time is not None and r.start_time >= ingested),
            key=lambda r: r.start_time or 0,
        )
        return started[0].dagster_run if started and started[0].dagster_run.is_finished else None

    run: dg.DagsterRun = eventually(
        f"a models run after {', '.join(batches)} landed", finished_models_run, WAIT_S, every_s=5
    )
    return run


def _gap_check(stack_instance: dg.DagsterInstance, run: dg.DagsterRun) -> Any:
    (evaluation,) = [
        event.dagster_event.event_specific_data
        for event in stack_instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        if event.dagster_event and event.dagster_event.event_specific_data.check_name == CHECK  # type: ignore[union-attr]
    ]
    return evaluation


def test_a_batch_failing_a_quality_test_is_named_and_blocks_no_other(
    control_limits: dg.ExecuteInProcessResult, stack_instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    run = _land_and_model((GAP, CLEAN), stack_instance)
    assert run.status == dg.DagsterRunStatus.SUCCESS, "a warn-level test does not fail the run"
    check = _gap_check(stack_instance, run)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["failing_batches"].value == [GAP]
    (row,) = check.metadata["failing_rows"].value
    assert row["batch_id"] == GAP and row["longest_silence_minutes"] == SILENCE_MINUTES
    overview = resources["trino"].query(
        "select batch_id, readings, longest_silence_minutes from marts.analytics.mart_bioreactor_overview "
        "where batch_id in (?, ?) order by batch_id",
        (CLEAN, GAP),
    )
    assert overview == [(CLEAN, SILENT, 0), (GAP, SILENT - (MINUTES[1] - MINUTES[0]), SILENCE_MINUTES)]
