"""Two ingest runs of one batch at once, in two processes, against the stack's Nessie and MinIO.

A barrier holds each run right after its duplicate check until the other has checked too, so both
see no row of the batch and both try to commit: the worst interleaving, every time. Only the
design can keep the batch once (the commit is conditional on the table the check read; the
overtaken run's step is retried and finds the duplicate). Runs use the ephemeral Dagster instance
of their process: what is under test is the data path, not the run queue.
"""

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import dagster as dg
from conftest import MINUTES, START

from bioreactor.assets import BATCHES, bioreactor_readings
from bioreactor.generate import batch_table, to_parquet
from wharf_infra.native.services import s3_client

BATCH = "B-IT-OVERLAP"
KEYS = {f"manual/{copy}/{BATCH}.parquet": seed for seed, copy in enumerate(("first", "second"))}
BARRIER_S = 300  # both processes import Dagster and the code location first: slow on 2 cores


def _ingest(key: str, barrier: str) -> bool:
    """One run of `key`, held after its duplicate check until every run has checked."""
    from bioreactor import ingestion
    from wharf_shared.profiles import shared_resources

    check = ingestion._stored

    def held(table: Any, batch_ids: list[str]) -> Any:
        seen = check(table, batch_ids)
        (Path(barrier) / Path(key).parent.name).touch()
        deadline = time.monotonic() + BARRIER_S
        while len(list(Path(barrier).iterdir())) < len(KEYS):
            assert time.monotonic() < deadline, "the other run never reached its check"
            time.sleep(0.2)
        return seen

    ingestion._stored = held
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(BATCHES, [BATCH])
        result = dg.materialize(
            [bioreactor_readings],
            resources=shared_resources("services"),
            instance=instance,
            partition_key=BATCH,
            run_config={"ops": {bioreactor_readings.node_def.name: {"config": {"keys": [key]}}}},
        )
    return result.success


def test_two_runs_of_one_batch_that_overlap_at_the_check_ingest_it_once(
    stack: dict[str, str], resources: dict[str, Any], tmp_path: Path
) -> None:
    s3 = s3_client()
    for key, seed in KEYS.items():  # two different files of one batch
        s3.put_object(Bucket="landing", Key=key, Body=to_parquet(batch_table(BATCH, START, MINUTES, seed)))
    with multiprocessing.get_context("spawn").Pool(len(KEYS)) as pool:
        succeeded = pool.starmap(_ingest, [(key, str(tmp_path)) for key in KEYS])
    assert succeeded == [True, True]  # a duplicate is an outcome, not a failed run
    assert len(list(tmp_path.iterdir())) == len(KEYS)  # both checked before either committed
    rows = resources["trino"].query(
        "select count(*), count(distinct source_file) from lake.raw.bioreactor_readings where batch_id = ?",
        (BATCH,),
    )
    assert rows == [(MINUTES, 1)]
    quarantined = s3.list_objects_v2(Bucket="landing", Prefix="quarantine/manual/").get("Contents", [])
    processed = s3.list_objects_v2(Bucket="landing", Prefix="processed/").get("Contents", [])
    (duplicate,) = [o["Key"] for o in quarantined if o["Key"].endswith(".parquet")]
    reason = json.loads(s3.get_object(Bucket="landing", Key=f"{duplicate}.reason.json")["Body"].read())
    assert reason["reason"] == "duplicate"
    assert len([o for o in processed if o["Key"].endswith(f"/{BATCH}.parquet")]) == 1
