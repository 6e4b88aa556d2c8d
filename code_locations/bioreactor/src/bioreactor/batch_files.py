"""The contract of a batch file, and how a file that breaks it is quarantined.

A batch file is `bioreactor/[<folders>/]<batch_id>.parquet` in the landing store: one row per
timestamp with the reactor's channels. Folders below `bioreactor/` only organise uploads (by year,
by line): the batch id is the file's name, unique across folders, so `bioreactor/2025/B1.parquet`
is batch `B1` and a second `B1` in another folder is a `duplicate`.

It is accepted as the common writers make it (pandas, polars, pyarrow, Spark): `batch_id` as any
Arrow string type (`string`, `large_string`, `string_view`, or a dictionary of them, as pandas
writes a categorical), `ts` as a timestamp of any unit, with or without a time zone (naive is
taken as UTC) and INT96, channels as integers or floats of any width, any codec and any number of
row groups. The file is read one record batch at a time, so a run's memory does not grow with the
file beyond `ts` (8 bytes a reading, for the interval checks); files over `MAX_FILE_BYTES` are
refused unread.

A file that breaks the contract goes to `quarantine/<key>` with `<key>.reason.json` beside it
(`reason`, `message`, `quarantined_at`); nothing is dropped, and nothing of it reaches the lake.
The reasons, checked in this order (the value checks record batch by record batch):

| reason                 | the file…                                                              |
|------------------------|------------------------------------------------------------------------|
| `bad_name`             | is not named `bioreactor/[<folders>/]<batch_id>.parquet` (`BATCH_ID`)  |
| `too_large`            | is larger than `MAX_FILE_BYTES`                                        |
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
| `too_dense`            | has two readings closer than `MIN_READING_INTERVAL`                    |
| `duplicate`            | is a batch already in the lake (checked when ingesting)                |

`MAX_BATCH_SPAN` and `MIN_READING_INTERVAL` bound what the dbt models see: at most
`max_readings(window)` readings in any window, the figure their tests are held to.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import numpy as np
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
MIN_READING_INTERVAL = timedelta(milliseconds=100)  # 10 Hz: the fastest a reactor's probes are logged
MAX_FILE_BYTES = 1 << 30  # 1 GiB: 60 days at 10 Hz compresses to less
READ_BATCH_ROWS = 262_144  # rows decoded at a time: about 15 MB in the lake's shape
REQUIRED_COLUMNS = ("batch_id", "ts", *CHANNELS)
PREVIEW_ROWS = 5
LAKE_TS = pa.timestamp("us", tz="UTC")


def max_readings(window: timedelta) -> int:
    """The most readings the contract lets into a window: the dbt models' tests use this bound."""
    return int(window / MIN_READING_INTERVAL) + 1


class RejectedFile(ValueError):
    """The file breaks the contract; `reason` is a short code, the message says what and how to fix."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


Source = bytes | Path  # a file's bytes, or a local copy of it


@dataclass(frozen=True)
class BatchFile:
    """A file that met the contract; its rows are read again, batch by batch, when committed."""

    key: str
    batch_id: str
    sha256: str
    readings: int
    preview: pa.Table  # its first rows in the lake's shape, for the materialization's metadata
    source: Source

    def rows(self) -> Iterator[pa.Table]:
        """The file's rows in the shape of lake.raw.bioreactor_readings, `READ_BATCH_ROWS` at a time."""
        for batch in _batches(self.key, self.source):
            yield _lake_rows(_conform(batch), self.key, self.sha256)


def _lake_rows(table: pa.Table, key: str, sha256: str) -> pa.Table:
    for name, value in {"source_file": key, "source_sha256": sha256}.items():
        table = table.append_column(name, pa.repeat(pa.scalar(value), table.num_rows))
    return table.cast(BIOREACTOR_READINGS.arrow_schema)


def batch_id_of(key: str) -> str:
    """The batch id a landing key names, or RejectedFile if the name breaks the contract."""
    path = PurePosixPath(key)
    if path.suffix != ".parquet" or not BATCH_ID.match(path.stem):
        raise RejectedFile(
            "bad_name",
            f"{key}: name files {LANDING_PREFIX}[<folders>/]<batch_id>.parquet, "
            f"batch_id matching {BATCH_ID.pattern}",
        )
    return path.stem


def _size(source: Source) -> int:
    return len(source) if isinstance(source, bytes) else source.stat().st_size


def _sha256(source: Source) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    with source.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _open(key: str, source: Source) -> pq.ParquetFile:
    size = _size(source)
    if size > MAX_FILE_BYTES:
        raise RejectedFile(
            "too_large",
            f"{key}: {size / 2**20:.0f} MiB is more than {MAX_FILE_BYTES >> 20} MiB; split the batch's "
            "readings by time into files of their own batch ids",
        )
    if size == 0:
        raise RejectedFile("empty", f"{key}: the file is empty (0 bytes)")
    try:
        return pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else source)
    except (pa.ArrowInvalid, OSError) as error:
        raise RejectedFile("corrupt", f"{key}: not a readable parquet file ({error})") from error


def _batches(key: str, source: Source) -> Iterator[pa.RecordBatch]:
    """The required columns, one record batch at a time; a file that breaks mid-read is `corrupt`."""
    parquet = _open(key, source)
    _check_schema(key, parquet.schema_arrow)
    try:
        yield from parquet.iter_batches(batch_size=READ_BATCH_ROWS, columns=list(REQUIRED_COLUMNS))
    except (pa.ArrowInvalid, OSError) as error:
        raise RejectedFile("corrupt", f"{key}: not a readable parquet file ({error})") from error


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_floating(kind) or pa.types.is_integer(kind))


def _check_schema(key: str, schema: pa.Schema) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
    if missing:
        raise RejectedFile(
            "wrong_schema", f"{key}: missing columns {missing}; expected {list(REQUIRED_COLUMNS)}"
        )
    expected = {"batch_id": _is_text, "ts": pa.types.is_timestamp} | {c: _is_number for c in CHANNELS}
    wrong = [
        f"{name}: {schema.field(name).type}"
        for name, ok in expected.items()
        if not ok(schema.field(name).type)
    ]
    if wrong:
        raise RejectedFile(
            "wrong_schema",
            f"{key}: wrong column types {wrong}; batch_id is a string, ts a timestamp, channels numbers",
        )


def _conform(batch: pa.RecordBatch) -> pa.Table:
    """The required columns in the lake's types: text as string, ts as UTC microseconds, float64."""
    table = pa.Table.from_batches([batch])
    ts = table["ts"]
    if ts.type.tz is None:  # naive timestamps are taken as UTC, as the reactors log them
        ts = pc.assume_timezone(ts, "UTC")
    columns = {
        "batch_id": table["batch_id"].cast(pa.string()),
        "ts": pc.cast(ts, LAKE_TS, safe=False),  # below a microsecond is below any probe's resolution
    }
    columns |= {c: table[c].cast(pa.float64()) for c in CHANNELS}
    return pa.table(columns)


def _check_values(key: str, batch_id: str, table: pa.Table) -> None:
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


def _check_times(key: str, micros: np.ndarray) -> None:
    """Span and spacing of every reading's time (µs since the epoch, sorted in place)."""
    micros.sort()
    first, last = (datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(m)) for m in micros[[0, -1]])
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
    gaps = np.diff(micros)
    if (gaps == 0).any():
        raise RejectedFile("duplicate_timestamps", f"{key}: a timestamp appears more than once")
    closest = timedelta(microseconds=int(gaps.min())) if len(gaps) else MIN_READING_INTERVAL
    if closest < MIN_READING_INTERVAL:
        raise RejectedFile(
            "too_dense",
            f"{key}: two readings {closest.total_seconds() * 1000:g} ms apart; the contract takes at most "
            f"one every {MIN_READING_INTERVAL.total_seconds() * 1000:g} ms (average faster signals first)",
        )


def parse_batch_file(key: str, source: Source) -> BatchFile:
    """Validate a landed file, record batch by record batch; return it, or raise RejectedFile."""
    batch_id = batch_id_of(key)
    stamps: list[np.ndarray] = []
    head: pa.Table | None = None
    for batch in _batches(key, source):
        table = _conform(batch)
        _check_values(key, batch_id, table)
        stamps.append(table["ts"].cast(pa.int64()).to_numpy())
        if head is None:
            head = table.slice(0, PREVIEW_ROWS)
    if head is None or not (micros := np.concatenate(stamps)).size:
        raise RejectedFile("empty", f"{key}: the file has the right columns but no rows")
    _check_times(key, micros)
    sha256 = _sha256(source)
    return BatchFile(
        key=key,
        batch_id=batch_id,
        sha256=sha256,
        readings=micros.size,
        preview=_lake_rows(head, key, sha256),
        source=source,
    )


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
