"""Two ingest runs of one batch at once, in two processes, on the stack's Nessie and MinIO.

Each run is held right after its duplicate check until the other has checked too (see
`held_ingest.py`), so both see no row of the batch and both try to commit: the worst interleaving,
every time. Only the design can keep the batch once: the commit is made on the table the check
read, so the later one is refused, and the overtaken run's step retry finds the duplicate.
"""

import json
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from conftest import MINUTES, START

from bioreactor.generate import batch_table, to_parquet
from wharf_infra.native.services import s3_client

BATCH = "OVERLAP-IT"  # not B-IT-*: the other tests count those batches
KEYS = [f"manual/{copy}/{BATCH}.parquet" for copy in ("first", "second")]  # two files of one batch
HELPER = Path(__file__).with_name("held_ingest.py")
RUN_TIMEOUT_S = 900


def test_two_runs_of_one_batch_that_overlap_at_the_check_ingest_it_once(
    stack: dict[str, str], resources: dict[str, Any], tmp_path: Path
) -> None:
    s3 = s3_client()
    for seed, key in enumerate(KEYS):
        s3.put_object(Bucket="landing", Key=key, Body=to_parquet(batch_table(BATCH, START, MINUTES, seed)))
    barrier = tmp_path / "checked"
    barrier.mkdir()
    logs = [tmp_path / f"run-{n}.log" for n in range(len(KEYS))]
    with ExitStack() as cleanup:
        runs = []
        for key, log in zip(KEYS, logs, strict=True):
            command = [sys.executable, str(HELPER), BATCH, key, str(barrier), str(len(KEYS))]
            output = cleanup.enter_context(log.open("w"))
            runs.append(subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT))
            cleanup.callback(runs[-1].kill)  # a no-op once it has ended
        codes = [run.wait(timeout=RUN_TIMEOUT_S) for run in runs]
    output_tails = "\n".join(log.read_text()[-3000:] for log in logs)
    assert codes == [0, 0], output_tails  # a duplicate is an outcome, not a failed run
    assert len(list(barrier.iterdir())) == len(KEYS)  # both checked before either committed
    rows = resources["trino"].query(
        "select count(*), count(distinct source_file) from lake.raw.bioreactor_readings where batch_id = ?",
        (BATCH,),
    )
    assert rows == [(MINUTES, 1)]
    quarantined = s3.list_objects_v2(Bucket="landing", Prefix="quarantine/manual/").get("Contents", [])
    (duplicate,) = [o["Key"] for o in quarantined if o["Key"].endswith(".parquet")]
    reason = json.loads(s3.get_object(Bucket="landing", Key=f"{duplicate}.reason.json")["Body"].read())
    assert reason["reason"] == "duplicate", reason
    processed = s3.list_objects_v2(Bucket="landing", Prefix="processed/").get("Contents", [])
    assert len([o for o in processed if o["Key"].endswith(f"/{BATCH}.parquet")]) == 1
