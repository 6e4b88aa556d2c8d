"""One ingest run of one landing key, in a process of its own, held right after its duplicate
check until `runs` runs have checked: `python held_ingest.py BATCH KEY BARRIER_DIR RUNS`.

The overlapping-runs test starts several of these at once. The run is a real Dagster run of the
ingest asset (in-process executor, the asset's step retries) on the stack's Nessie and MinIO,
recorded in an ephemeral instance of its process: what is under test is the data path.
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg

from bioreactor import ingestion
from bioreactor.assets import BATCHES, bioreactor_readings
from wharf_shared.profiles import shared_resources

BARRIER_S = 300  # every process imports Dagster and the code location first: slow on 2 cores


def _held_after_first_check(barrier: Path, runs: int) -> None:
    """Wrap the duplicate check: its first call waits at the barrier; a step retry goes through."""
    check = ingestion._stored

    def held(table: Any, batch_ids: list[str]) -> Any:
        stored = check(table, batch_ids)
        mine = barrier / str(os.getpid())
        if not mine.exists():
            mine.touch()
            deadline = time.monotonic() + BARRIER_S
            while len(list(barrier.iterdir())) < runs:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the other runs did not reach their check within {BARRIER_S} s")
                time.sleep(0.2)
        return stored

    ingestion._stored = held


def main(batch: str, key: str, barrier: str, runs: str) -> int:
    _held_after_first_check(Path(barrier), int(runs))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(BATCHES, [batch])
        result = dg.materialize(
            [bioreactor_readings],
            resources=shared_resources("services"),
            instance=instance,
            partition_key=batch,
            run_config={"ops": {bioreactor_readings.node_def.name: {"config": {"keys": [key]}}}},
            raise_on_error=False,
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
