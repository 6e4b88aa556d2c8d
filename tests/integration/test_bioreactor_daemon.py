"""bioreactor on the running stack: files land in MinIO, the daemon's sensor launches the runs."""

import time
from typing import Any

import dagster as dg
from conftest import BAD, GOOD, MINUTES, good_batch, landing_key, quarantine_reason, wait_for_runs

from bioreactor.generate import to_parquet
from wharf_infra.native.services import s3_client


def test_the_files_landed_together_went_to_few_successful_runs(landed: dict[str, dg.DagsterRun]) -> None:
    assert {key: run.status for key, run in landed.items()} == {
        landing_key(b): dg.DagsterRunStatus.SUCCESS for b in (*GOOD, *BAD)
    }
    # One run for the burst; two if a sensor tick fell between the uploads.
    assert len({run.run_id for run in landed.values()}) <= 2, landed


def test_good_rows_landed_once_and_bad_files_are_quarantined(
    landed: dict[str, dg.DagsterRun], resources: dict[str, Any]
) -> None:
    rows = resources["trino"].query(
        "select batch_id, count(*) from lake.raw.bioreactor_readings "
        "where batch_id like 'B-IT-%' group by batch_id order by 1"
    )
    assert rows == [(batch, MINUTES) for batch in GOOD]
    for batch, (_, reason) in BAD.items():
        assert quarantine_reason(batch)["reason"] == reason
    assert "Contents" not in s3_client().list_objects_v2(Bucket="landing", Prefix="bioreactor/")
    processed = s3_client().list_objects_v2(Bucket="landing", Prefix="processed/")["Contents"]
    ours = {o["Key"].split("/", 2)[-1] for o in processed} & {landing_key(b) for b in (*GOOD, *BAD)}
    assert ours == {landing_key(b) for b in GOOD}  # other tests land batches of their own


def test_a_duplicate_upload_is_quarantined_and_adds_no_row(
    landed: dict[str, dg.DagsterRun], stack_instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    after = time.time() - 1
    s3_client().put_object(Bucket="landing", Key=landing_key(GOOD[0]), Body=to_parquet(good_batch(GOOD[0])))
    run = wait_for_runs(stack_instance, [landing_key(GOOD[0])], after)[landing_key(GOOD[0])]
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert quarantine_reason(GOOD[0])["reason"] == "duplicate"
    count = resources["trino"].query(
        "select count(*) from lake.raw.bioreactor_readings where batch_id = ?", (GOOD[0],)
    )
    assert count == [(MINUTES,)]


def test_files_pandas_and_polars_wrote_land_from_any_folder(
    stack: dict[str, str], stack_instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    """Both write strings as large_string (a categorical as a dictionary); a folder only organises."""
    import io

    import pandas as pd
    import polars as pl

    frame = good_batch(GOOD[0]).to_pandas()
    written = {}
    for batch, key in (
        ("PD-IT", "bioreactor/PD-IT.parquet"),
        ("PL-IT", "bioreactor/2025/line-a/PL-IT.parquet"),
    ):
        sink = io.BytesIO()
        ours = frame.assign(batch_id=pd.Categorical([batch] * len(frame)))
        if batch == "PD-IT":
            ours.to_parquet(sink, index=False)
        else:
            pl.from_pandas(ours.astype({"batch_id": str})).write_parquet(sink)
        written[key] = sink.getvalue()
    after = time.time() - 1
    for key, data in written.items():
        s3_client().put_object(Bucket="landing", Key=key, Body=data)
    runs = wait_for_runs(stack_instance, list(written), after)
    assert {run.status for run in runs.values()} == {dg.DagsterRunStatus.SUCCESS}
    rows = resources["trino"].query(
        "select batch_id, count(*) from lake.raw.bioreactor_readings "
        "where batch_id in ('PD-IT', 'PL-IT') group by batch_id order by 1"
    )
    assert rows == [("PD-IT", MINUTES), ("PL-IT", MINUTES)]
