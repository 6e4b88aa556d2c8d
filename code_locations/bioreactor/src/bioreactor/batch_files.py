"""The contract of a batch file, and how a file that breaks it is quarantined.

A batch file is `bioreactor/<batch_id>.parquet` in the landing store: one row per timestamp with
the reactor's channels. A file that breaks the contract goes to `quarantine/<key>` with
`<key>.reason.json` beside it (`reason`, `message`, `quarantined_at`); nothing is dropped, and
nothing of it reaches the lake. The reasons, checked in this order:

| reason                 | the file…                                                              |
|------------------------|------------------------------------------------------------------------|
| `bad_name`             | is not named `bioreactor/<batch_id>.parquet` (`BATCH_ID`)              |
| `empty`                | has 0 bytes, or the right columns and no rows                          |
| `corrupt`              | is not a readable parquet file                                         |
| `wrong_schema`         | lacks a column of `REQUIRED_COLUMNS` or has one of the wrong type      |
| `nulls`                | has a null in a required column                                        |
| `batch_mismatch`       | holds rows of another batch than its name says                         |
| `not_finite`           | has a reading that is NaN or ±infinity                                 |
| `out_of_range`         | has a reading outside the instrument limits (`VALID_RANGES`)           |
| `future_timestamp`     | has a reading later than now plus `CLOCK_SKEW`                         |
| `too_early`            | has a reading before `EARLIEST_READING`                                |
| `too_long`             | spans more than `MAX_BATCH_SPAN` from first to last reading            |
| `duplicate_timestamps` | has a timestamp twice                                                  |
| `duplicate`            | is a batch already in the lake (checked when ingesting)                |
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bioreactor.tables import BIOREACTOR_READINGS
from wharf_shared.landing import LandingStore

LANDING_PREFIX = "bioreactor/"  # files waiting: once ingested or quarantined, they leave it
QUARANTINE_PREFIX = "quarantine/"
PROCESSED_PREFIX = "processed/"  # processed/<yyyy-mm-dd>/bioreactor/<batch_id>.parquet
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")  # a Dagster tag name: 63 at most

# Instrument limits: a reading outside them is a broken probe or a unit error, not a process state.
VALID_RANGES: dict[str, tuple[float, float]] = {
    "temperature_c": (0.0, 80.0),
    "ph": (0.0, 14.0),
    "dissolved_oxygen_pct": (0.0, 150.0),
    "agitation_rpm": (0.0, 3000.0),
}
CHANNELS = tuple(VALID_RANGES)
# When readings can plausibly have been taken.
CLOCK_SKEW = timedelta(minutes=5)  # a reactor's clock may run this far ahead of ours
EARLIEST_READING = datetime(2000, 1, 1, tzinfo=UTC)  # before it, a clock that was never set
MAX_BATCH_SPAN = timedelta(days=60)  # a fed-batch run is weeks at most
REQUIRED_COLUMNS = ("batch_id", "ts", *CHANNELS)


class RejectedFile(ValueError):
    """The file breaks the contract; `reason` is a short code, the message says what and how to fix."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class BatchFile:
    key: str
    batch_id: str
    rows: pa.Table  # in the shape of lake.raw.bioreactor_readings


def batch_id_of(key: str) -> str:
    """The batch id a landing key names, or RejectedFile if the name breaks the contract."""
    path = PurePosixPath(key)
    if path.suffix != ".parquet" or not BATCH_ID.match(path.stem):
        raise RejectedFile(
            "bad_name",
            f"{key}: name files {LANDING_PREFIX}<batch_id>.parquet, batch_id matching {BATCH_ID.pattern}",
        )
    return path.stem


def _read(key: str, data: bytes) -> pa.Table:
    if not data:
        raise RejectedFile("empty", f"{key}: the file is empty (0 bytes)")
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as error:
        raise RejectedFile("corrupt", f"{key}: not a readable parquet file ({error})") from error


def _conform(key: str, table: pa.Table) -> pa.Table:
    missing = [c for c in REQUIRED_COLUMNS if c not in table.schema.names]
    if missing:
        raise RejectedFile(
            "wrong_schema", f"{key}: missing columns {missing}; expected {list(REQUIRED_COLUMNS)}"
        )
    wrong = [
        f"{name}: {table.schema.field(name).type}"
        for name, ok in (
            ("batch_id", pa.types.is_string),
            ("ts", pa.types.is_timestamp),
            *((c, lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)) for c in CHANNELS),
        )
        if not ok(table.schema.field(name).type)
    ]
    if wrong:
        raise RejectedFile(
            "wrong_schema",
            f"{key}: wrong column types {wrong}; batch_id is a string, ts a timestamp, channels numbers",
        )
    ts = table["ts"]
    if ts.type.tz is None:  # naive timestamps are taken as UTC, as the reactors log them
        ts = pc.assume_timezone(ts, "UTC")
    columns = {"batch_id": table["batch_id"], "ts": ts.cast(pa.timestamp("us", tz="UTC"))}
    columns |= {c: table[c].cast(pa.float64()) for c in CHANNELS}
    return pa.table(columns)


def _check_values(key: str, batch_id: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        raise RejectedFile("empty", f"{key}: the file has the right columns but no rows")
    nulls = [c for c in REQUIRED_COLUMNS if table[c].null_count]
    if nulls:
        raise RejectedFile("nulls", f"{key}: null values in {nulls}")
    ids = pc.unique(table["batch_id"]).to_pylist()
    if ids != [batch_id]:
        raise RejectedFile(
            "batch_mismatch",
            f"{key}: rows carry batch ids {ids[:5]}, the file name says {batch_id!r}; one batch per file",
        )
    for column in CHANNELS:  # NaN is neither below nor above a limit: caught first
        not_finite = pc.sum(pc.invert(pc.is_finite(table[column]))).as_py() or 0
        if not_finite:
            raise RejectedFile("not_finite", f"{key}: {not_finite} {column} values are NaN or infinite")
    for column, (low, high) in VALID_RANGES.items():
        values = table[column]
        bad = pc.sum(pc.or_(pc.less(values, low), pc.greater(values, high))).as_py() or 0
        if bad:
            raise RejectedFile("out_of_range", f"{key}: {bad} {column} values outside [{low}, {high}]")
    _check_times(key, table["ts"])
    if table.num_rows != pc.count_distinct(table["ts"]).as_py():
        raise RejectedFile("duplicate_timestamps", f"{key}: a timestamp appears more than once")


def _check_times(key: str, ts: pa.ChunkedArray) -> None:
    first, last = pc.min(ts).as_py(), pc.max(ts).as_py()
    latest = datetime.now(UTC) + CLOCK_SKEW
    if last > latest:
        raise RejectedFile(
            "future_timestamp",
            f"{key}: a reading at {last.isoformat()} is in the future (now {latest:%Y-%m-%dT%H:%M}Z)",
        )
    if first < EARLIEST_READING:
        raise RejectedFile(
            "too_early",
            f"{key}: a reading at {first.isoformat()} is before {EARLIEST_READING:%Y-%m-%d} (clock not set?)",
        )
    if last - first > MAX_BATCH_SPAN:
        raise RejectedFile(
            "too_long",
            f"{key}: readings span {last - first}, more than {MAX_BATCH_SPAN.days} days; one batch per file",
        )


def parse_batch_file(key: str, data: bytes) -> BatchFile:
    """Validate a landed file and return its rows in the lake's shape, or raise RejectedFile."""
    batch_id = batch_id_of(key)
    table = _conform(key, _read(key, data))
    _check_values(key, batch_id, table)
    sha = hashlib.sha256(data).hexdigest()
    rows = table.append_column("source_file", pa.array([key] * table.num_rows, pa.string()))
    rows = rows.append_column("source_sha256", pa.array([sha] * table.num_rows, pa.string()))
    return BatchFile(key=key, batch_id=batch_id, rows=rows.cast(BIOREACTOR_READINGS.arrow_schema))


def mark_processed(landing: LandingStore, key: str) -> str:
    """Move an ingested file out of the waiting prefix, under the day it was ingested."""
    target = f"{PROCESSED_PREFIX}{datetime.now(UTC):%Y-%m-%d}/{key}"
    landing.move(key, target)
    return target


def quarantine(landing: LandingStore, key: str, rejection: RejectedFile) -> str:
    """Move `key` under quarantine/ with `<key>.reason.json` beside it; return the new key."""
    target = QUARANTINE_PREFIX + key
    reason = {
        "file": key,
        "reason": rejection.reason,
        "message": str(rejection),
        "quarantined_at": datetime.now(UTC).isoformat(),
    }
    landing.write(target + ".reason.json", json.dumps(reason, indent=2).encode())
    landing.move(key, target)
    return target
