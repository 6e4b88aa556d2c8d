"""The contract of a batch file, and how a file that breaks it is quarantined.

A batch file is `bioreactor/<batch_id>.parquet` in the landing store: one row per timestamp with
the reactor's channels. A file that is unreadable, empty, of the wrong shape, out of range, or a
batch already ingested goes to `quarantine/` with a JSON reason beside it; nothing is dropped.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bioreactor.tables import BIOREACTOR_READINGS
from wharf_shared.landing import LandingStore

LANDING_PREFIX = "bioreactor/"
QUARANTINE_PREFIX = "quarantine/"
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

# Instrument limits: a reading outside them is a broken probe or a unit error, not a process state.
VALID_RANGES: dict[str, tuple[float, float]] = {
    "temperature_c": (0.0, 80.0),
    "ph": (0.0, 14.0),
    "dissolved_oxygen_pct": (0.0, 150.0),
    "agitation_rpm": (0.0, 3000.0),
}
CHANNELS = tuple(VALID_RANGES)
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
    for column, (low, high) in VALID_RANGES.items():
        values = table[column]
        bad = pc.sum(pc.or_(pc.less(values, low), pc.greater(values, high))).as_py() or 0
        if bad:
            raise RejectedFile("out_of_range", f"{key}: {bad} {column} values outside [{low}, {high}]")
    if table.num_rows != pc.count_distinct(table["ts"]).as_py():
        raise RejectedFile("duplicate_timestamps", f"{key}: a timestamp appears more than once")


def parse_batch_file(key: str, data: bytes) -> BatchFile:
    """Validate a landed file and return its rows in the lake's shape, or raise RejectedFile."""
    batch_id = batch_id_of(key)
    table = _conform(key, _read(key, data))
    _check_values(key, batch_id, table)
    sha = hashlib.sha256(data).hexdigest()
    rows = table.append_column("source_file", pa.array([key] * table.num_rows, pa.string()))
    rows = rows.append_column("source_sha256", pa.array([sha] * table.num_rows, pa.string()))
    return BatchFile(key=key, batch_id=batch_id, rows=rows.cast(BIOREACTOR_READINGS.arrow_schema))


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
