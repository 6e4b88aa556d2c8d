"""Exactly once under concurrency: two runs of one batch that truly overlap ingest it once.

The guarantee is the design's, not timing's: the ingest op is in a pool the instance admits one
op of at a time, so the duplicate check and the append of one run cannot interleave with another's.
"""

import threading
from typing import Any

import dagster as dg
from conftest import MINUTES, good_batch, landing_key

from bioreactor.assets import BATCHES, bioreactor_readings
from bioreactor.generate import to_parquet
from wharf_infra.native.services import s3_client

BATCH = "B-IT-overlap"


def test_two_overlapping_runs_of_one_batch_ingest_it_once(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    s3_client().put_object(Bucket="landing", Key=landing_key(BATCH), Body=to_parquet(good_batch(BATCH)))
    instance.add_dynamic_partitions(BATCHES, [BATCH])
    start = threading.Barrier(2)
    results: list[dg.ExecuteInProcessResult] = []

    def ingest() -> None:
        start.wait()
        results.append(
            dg.materialize(
                [bioreactor_readings],
                instance=instance,
                resources=resources,
                partition_key=BATCH,
                run_config={
                    "ops": {bioreactor_readings.node_def.name: {"config": {"key": landing_key(BATCH)}}}
                },
            )
        )

    threads = [threading.Thread(target=ingest) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert len(results) == 2 and all(r.success for r in results)

    records = [instance.get_run_record_by_id(r.run_id) for r in results]
    assert all(r is not None and r.start_time and r.end_time for r in records)
    windows = [(r.start_time, r.end_time) for r in records if r is not None]
    assert max(s for s, _ in windows) < min(e for _, e in windows), "the two runs did not overlap"  # type: ignore[operator]

    count = resources["trino"].query(
        "select count(*) from lake.raw.bioreactor_readings where batch_id = ?", (BATCH,)
    )
    assert count == [(MINUTES,)]
    materialized = [
        r for r in results if r.asset_materializations_for_node(bioreactor_readings.node_def.name)
    ]
    assert len(materialized) == 1, "exactly one run appended the batch"
