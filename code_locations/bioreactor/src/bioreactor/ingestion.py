"""Ingest landed batch files: every file keeps its own outcome, the good ones land in one commit.

A run may carry one file or a burst of them (one file per batch, see the landing sensor). Each file
is judged alone — a bad file is quarantined with its reason and the others go on — and the accepted
ones are appended to the lake in one Iceberg commit, so the run leaves either all of them in the
table or none. That commit is made on the table as the duplicate check read it: if another run
committed in between, it is refused and the step is retried, so two runs of one batch that truly
overlap still ingest it once (the later one finds it and quarantines its file as a `duplicate`).
Files leave the waiting prefix only after the commit. A retry (a later run of the same uploads,
or the step retried) finds a file whose exact rows an interrupted attempt committed and only moves
it; outside a retry, rows already in the lake make the file a `duplicate`. Each file is streamed to
a local copy and read from it twice, to check and to commit, record batch by record batch.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import In
from pyiceberg.table import Table

from bioreactor.batch_files import BatchFile, RejectedFile, mark_processed, parse_batch_file, quarantine
from bioreactor.tables import BIOREACTOR_READINGS
from wharf_shared.iceberg import IcebergCatalogResource
from wharf_shared.landing import LandingStore

PROVENANCE = ("batch_id", "source_file", "source_sha256")  # what the duplicate check reads


@dataclass
class Outcome:
    accepted: dict[str, BatchFile] = field(default_factory=dict)  # appended by this run
    completed: list[str] = field(default_factory=list)  # committed by an interrupted attempt
    rejected: dict[str, RejectedFile] = field(default_factory=dict)  # quarantined
    gone: list[str] = field(default_factory=list)  # no longer waiting: an earlier run finished it
    moved_to: dict[str, str] = field(default_factory=dict)  # landing key -> where it went
    table: Table | None = None  # after this run's commit, if it made one
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went: read, commit, move


def _parse(landing: LandingStore, key: str, partitions: Collection[str], local: Path) -> BatchFile:
    landing.download(key, local)
    batch = parse_batch_file(key, local)
    if batch.batch_id not in partitions:
        raise RejectedFile(
            "batch_mismatch", f"{key} is batch {batch.batch_id}; the run is for {sorted(partitions)}"
        )
    return batch


def _stored(table: Table, batch_ids: list[str]) -> dict[str, pa.Table]:
    """The provenance of rows already in the lake, per batch, in one scan."""
    if not batch_ids:
        return {}
    rows = table.scan(row_filter=In("batch_id", batch_ids), selected_fields=PROVENANCE).to_arrow()
    return {
        batch_id: rows.filter(pc.equal(rows["batch_id"], batch_id))
        for batch_id in pc.unique(rows["batch_id"]).to_pylist()
    }


def _already_in_lake(batch: BatchFile, stored: pa.Table, retry: bool) -> bool:
    """True for the retry of an attempt that committed this very file; RejectedFile otherwise."""
    if retry and pc.unique(stored["source_sha256"]).to_pylist() == [batch.sha256]:
        return True
    ingested_from = pc.unique(stored["source_file"]).to_pylist()
    raise RejectedFile(
        "duplicate",
        f"{batch.key}: batch {batch.batch_id} is already in {BIOREACTOR_READINGS.trino_name} "
        f"(from {ingested_from})",
    )


def ingest_files(
    landing: LandingStore,
    iceberg: IcebergCatalogResource,
    keys: Sequence[str],
    partitions: Collection[str],
    retry: bool,
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="wharf-ingest-") as scratch:
        return _ingest(landing, iceberg, keys, partitions, retry, Path(scratch))


def _ingest(
    landing: LandingStore,
    iceberg: IcebergCatalogResource,
    keys: Sequence[str],
    partitions: Collection[str],
    retry: bool,
    scratch: Path,
) -> Outcome:
    outcome = Outcome()
    clock = time.monotonic()
    parsed: dict[str, BatchFile] = {}
    for n, key in enumerate(keys):
        if not landing.exists(key):
            outcome.gone.append(key)
            continue
        try:
            parsed[key] = _parse(landing, key, partitions, scratch / f"{n}.parquet")
        except RejectedFile as rejection:
            outcome.rejected[key] = rejection
    table = iceberg.table(BIOREACTOR_READINGS)  # the snapshot the check reads and the commit asserts
    stored = _stored(table, [batch.batch_id for batch in parsed.values()])
    for key, batch in parsed.items():
        try:
            if batch.batch_id not in stored:
                outcome.accepted[key] = batch
            elif _already_in_lake(batch, stored[batch.batch_id], retry):
                outcome.completed.append(key)
        except RejectedFile as rejection:
            outcome.rejected[key] = rejection
    for key, reason in outcome.rejected.items():
        outcome.moved_to[key] = quarantine(landing, key, reason)
    outcome.seconds["read"], clock = time.monotonic() - clock, time.monotonic()
    if outcome.accepted:
        rows = (chunk for batch in outcome.accepted.values() for chunk in batch.rows())
        outcome.table = iceberg.append(BIOREACTOR_READINGS, rows, base=table)
    outcome.seconds["commit"], clock = time.monotonic() - clock, time.monotonic()
    for key in [*outcome.accepted, *outcome.completed]:
        outcome.moved_to[key] = mark_processed(landing, key)
    outcome.seconds["move"] = time.monotonic() - clock
    return outcome
