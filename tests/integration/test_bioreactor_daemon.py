"""bioreactor on the running stack: files land in MinIO, the daemon's sensor launches the runs."""

import json
import time
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pytest

from bioreactor.generate import bad_file, batch_table, to_parquet
from wharf_infra.stack.services import s3_client

START = datetime(2025, 6, 1, tzinfo=UTC)
MINUTES = 120
GOOD = ("B-IT-1", "B-IT-2")
BAD = {"B-IT-corrupt": ("corrupt", "corrupt"), "B-IT-empty": ("empty", "empty"),
       "B-IT-schema": ("wrong-schema", "wrong_schema")}
TIMEOUT_S = 420


def _key(batch: str) -> str:
    return f"bioreactor/{batch}.parquet"


def _wait_for_runs(instance: dg.DagsterInstance, keys: list[str], after: float) -> dict[str, dg.DagsterRun]:
    """The newest run per landing key started after `after`, once every one has finished."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        runs: dict[str, dg.DagsterRun] = {}
        for record in instance.get_run_records(dg.RunsFilter(job_name="bioreactor_ingest_job")):
            key = record.dagster_run.tags.get("wharf/landing_key")
            if key in keys and record.create_timestamp.timestamp() >= after and key not in runs:
                runs[key] = record.dagster_run
        if len(runs) == len(keys) and all(r.is_finished for r in runs.values()):
            return runs
        time.sleep(5)
    raise AssertionError(f"the daemon did not finish runs for {keys} within {TIMEOUT_S} s")


def _quarantine_reason(batch: str) -> dict[str, Any]:
    body = s3_client().get_object(Bucket="landing", Key=f"quarantine/{_key(batch)}.reason.json")["Body"]
    reason: dict[str, Any] = json.loads(body.read())
    return reason


@pytest.fixture(scope="module")
def landed(stack: dict[str, str], stack_instance: dg.DagsterInstance) -> dict[str, dg.DagsterRun]:
    s3 = s3_client()
    after = time.time() - 1
    for batch in GOOD:
        s3.put_object(Bucket="landing", Key=_key(batch), Body=to_parquet(batch_table(batch, START, MINUTES, 7)))
    for batch, (mode, _) in BAD.items():
        s3.put_object(Bucket="landing", Key=_key(batch), Body=bad_file(mode, batch, START, 7))
    return _wait_for_runs(stack_instance, [_key(b) for b in (*GOOD, *BAD)], after)


def test_each_file_became_one_successful_run(landed: dict[str, dg.DagsterRun]) -> None:
    assert {key: run.status for key, run in landed.items()} == {
        _key(b): dg.DagsterRunStatus.SUCCESS for b in (*GOOD, *BAD)}
    assert {run.tags["dagster/partition"] for run in landed.values()} == {*GOOD, *BAD}


def test_good_rows_landed_once_and_bad_files_are_quarantined(landed: dict[str, dg.DagsterRun],
                                                             resources: dict[str, Any]) -> None:
    rows = resources["trino"].query("select batch_id, count(*) from lake.raw.bioreactor_readings "
                                    "where batch_id like 'B-IT-%' group by batch_id order by 1")
    assert rows == [(batch, MINUTES) for batch in GOOD]
    for batch, (_, reason) in BAD.items():
        assert _quarantine_reason(batch)["reason"] == reason
    listed = {o["Key"] for o in s3_client().list_objects_v2(Bucket="landing", Prefix="bioreactor/")["Contents"]}
    assert listed == {_key(b) for b in GOOD}


def test_a_duplicate_upload_is_quarantined_and_adds_no_row(landed: dict[str, dg.DagsterRun],
                                                           stack_instance: dg.DagsterInstance,
                                                           resources: dict[str, Any]) -> None:
    after = time.time() - 1
    s3_client().put_object(Bucket="landing", Key=_key(GOOD[0]),
                           Body=to_parquet(batch_table(GOOD[0], START, MINUTES, 7)))
    run = _wait_for_runs(stack_instance, [_key(GOOD[0])], after)[_key(GOOD[0])]
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert _quarantine_reason(GOOD[0])["reason"] == "duplicate"
    count = resources["trino"].query("select count(*) from lake.raw.bioreactor_readings where batch_id = ?",
                                     (GOOD[0],))
    assert count == [(MINUTES,)]
