"""The batch-file contract against files as real writers make them: pandas, polars, Spark's INT96.

Every file here is written by the library itself from an ordinary DataFrame, the way a site's
scripts write them, never assembled as Arrow by hand; each reason of the contract has such a file.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bioreactor import batch_files
from bioreactor.batch_files import MIN_READING_INTERVAL, RejectedFile, parse_batch_file
from bioreactor.ingestion import ingest_files
from bioreactor.tables import BIOREACTOR_READINGS

START = datetime(2025, 6, 1, tzinfo=UTC)
KEY = "bioreactor/B1.parquet"


def _frame(rows: int = 120, batch_id: str = "B1", every: str = "1min") -> pd.DataFrame:
    """A batch as a process engineer's notebook holds it: a plain pandas DataFrame."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "batch_id": [batch_id] * rows,
            "ts": pd.date_range("2025-06-01", periods=rows, freq=every, tz="UTC"),
            "temperature_c": 37 + rng.normal(0, 0.1, rows),
            "ph": 7.1 + rng.normal(0, 0.02, rows),
            "dissolved_oxygen_pct": 50 + rng.normal(0, 2, rows),
            "agitation_rpm": rng.integers(100, 200, rows),  # an integer channel, as loggers count it
        }
    )


def _pandas(path: Path, frame: pd.DataFrame, **options: Any) -> bytes:
    frame.to_parquet(path, index=False, **options)
    return path.read_bytes()


def _accepted(data: bytes | Path, key: str = KEY) -> pa.Table:
    return pa.concat_tables(parse_batch_file(key, data).rows())


def test_pandas_3_writes_large_strings_and_they_are_accepted(tmp_path: Path) -> None:
    frame = _frame()
    data = _pandas(tmp_path / "f.parquet", frame)
    assert pq.read_schema(tmp_path / "f.parquet").field("batch_id").type == pa.large_string()
    rows = _accepted(data)
    assert rows.schema == BIOREACTOR_READINGS.arrow_schema
    assert rows["ts"].to_pylist() == list(frame["ts"].dt.to_pydatetime())
    assert rows["agitation_rpm"].to_pylist() == [float(v) for v in frame["agitation_rpm"]]


def test_a_pandas_categorical_batch_id_is_accepted(tmp_path: Path) -> None:
    frame = _frame().astype({"batch_id": "category"})
    data = _pandas(tmp_path / "f.parquet", frame)
    assert pa.types.is_dictionary(pq.read_schema(tmp_path / "f.parquet").field("batch_id").type)
    assert set(_accepted(data)["batch_id"].to_pylist()) == {"B1"}


def test_polars_files_are_accepted_in_many_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    frame = pl.from_pandas(_frame(rows=1000).assign(ts=lambda f: f["ts"].dt.tz_localize(None)))
    frame.write_parquet(path, row_group_size=100)
    assert pq.ParquetFile(path).metadata.num_row_groups == 10
    assert pq.read_schema(path).field("batch_id").type == pa.large_string()
    rows = _accepted(path)
    assert rows.num_rows == 1000
    assert rows["ts"][0].as_py() == START  # naive timestamps are taken as UTC


def test_string_views_and_spark_int96_timestamps_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    table = table.set_column(0, "batch_id", table["batch_id"].cast(pa.string_view()))
    pq.write_table(table, path, use_deprecated_int96_timestamps=True)  # how Spark writes timestamps
    assert pq.read_schema(path).field("ts").type == pa.timestamp("ns")
    assert _accepted(path)["ts"][0].as_py() == START


def test_a_time_zone_other_than_utc_is_converted(tmp_path: Path) -> None:
    frame = _frame()
    frame["ts"] = frame["ts"].dt.tz_convert("Europe/London")
    assert _accepted(_pandas(tmp_path / "f.parquet", frame))["ts"][0].as_py() == START


@pytest.mark.parametrize("codec", ["snappy", "gzip", "brotli", "zstd", "lz4", "none"])
def test_every_codec_pyarrow_reads_is_accepted(tmp_path: Path, codec: str) -> None:
    data = _pandas(tmp_path / "f.parquet", _frame(), compression=codec)
    assert _accepted(data).num_rows == 120


def test_a_large_file_is_read_and_committed_a_record_batch_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_files, "READ_BATCH_ROWS", 256)
    frame = _frame(rows=1000)
    chunks = list(parse_batch_file(KEY, _pandas(tmp_path / "f.parquet", frame)).rows())
    assert [c.num_rows for c in chunks] == [256, 256, 256, 232]
    assert pa.concat_tables(chunks)["ph"].to_pylist() == list(frame["ph"])


def test_a_file_committed_in_many_chunks_is_in_the_lake_once_and_whole(
    tmp_path: Path, resources: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_files, "READ_BATCH_ROWS", 100)
    landing, iceberg = resources["landing"], resources["iceberg"]
    frame = _frame(rows=1000)
    landing.write(KEY, _pandas(tmp_path / "f.parquet", frame))
    assert list(ingest_files(landing, iceberg, [KEY], {"B1"}, retry=False).accepted) == [KEY]
    stored = iceberg.read(BIOREACTOR_READINGS).sort_by("ts")
    assert stored["ts"].to_pylist() == list(frame["ts"].dt.to_pydatetime())
    assert stored["ph"].to_pylist() == list(frame["ph"])


def _with(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: "Float64"}) if value is pd.NA else frame
        frame.loc[row, column] = value
        return frame

    return change


def _ts(change: Callable[[pd.Series], pd.Series]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.assign(ts=change(frame["ts"]))


REASONS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "wrong_schema": lambda f: f.rename(columns={"ph": "pH"}),
    "nulls": _with("ph", 5, pd.NA),
    "batch_mismatch": _with("batch_id", 5, "B2"),
    "out_of_range": _with("ph", 5, 15.0),
    "future_timestamp": _ts(lambda ts: ts + timedelta(days=3650)),
    "too_early": _ts(lambda ts: ts - timedelta(days=365 * 30)),
    "too_long": _with("ts", 119, pd.Timestamp("2025-09-01", tz="UTC")),
    "duplicate_timestamps": _with("ts", 6, pd.Timestamp("2025-06-01 00:05", tz="UTC")),
    "too_dense": _ts(
        lambda ts: pd.Series(pd.date_range("2025-06-01", periods=len(ts), freq="50ms", tz="UTC"))
    ),
    "empty": lambda f: f.iloc[0:0],
}


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_each_reason_with_a_file_pandas_wrote(tmp_path: Path, reason: str) -> None:
    data = _pandas(tmp_path / "f.parquet", REASONS[reason](_frame()))
    with pytest.raises(RejectedFile) as rejected:
        parse_batch_file(KEY, data)
    assert rejected.value.reason == reason, str(rejected.value)


def test_nan_as_pandas_and_polars_write_it(tmp_path: Path) -> None:
    """pandas writes a NaN as a null, polars keeps it a NaN: refused either way, each for its reason."""
    frame = _with("temperature_c", 5, np.nan)(_frame())
    writers: dict[str, Callable[[Path], object]] = {
        "nulls": lambda path: frame.to_parquet(path),
        "not_finite": lambda path: pl.from_pandas(frame, nan_to_null=False).write_parquet(path),
    }
    for reason, write in writers.items():
        write(tmp_path / f"{reason}.parquet")
        with pytest.raises(RejectedFile, match="temperature_c") as rejected:
            parse_batch_file(KEY, tmp_path / f"{reason}.parquet")
        assert rejected.value.reason == reason


def test_reasons_that_need_no_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _pandas(tmp_path / "f.parquet", _frame())
    cases = {
        "bad_name": ("bioreactor/B 1.csv", data),
        "empty": (KEY, b""),
        "corrupt": (KEY, data[: len(data) // 2]),  # an upload cut short: no footer
    }
    for reason, (key, content) in cases.items():
        with pytest.raises(RejectedFile) as rejected:
            parse_batch_file(key, content)
        assert rejected.value.reason == reason
    monkeypatch.setattr(batch_files, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(RejectedFile, match="split the batch") as rejected:
        parse_batch_file(KEY, data)
    assert rejected.value.reason == "too_large"


def test_sampling_at_the_contracts_limit_is_accepted(tmp_path: Path) -> None:
    every = f"{MIN_READING_INTERVAL.total_seconds() * 1000:g}ms"
    assert _accepted(_pandas(tmp_path / "f.parquet", _frame(every=every))).num_rows == 120


def test_folders_below_the_prefix_organise_and_the_file_name_is_the_batch(
    tmp_path: Path, resources: dict[str, Any]
) -> None:
    landing, iceberg = resources["landing"], resources["iceberg"]
    data = _pandas(tmp_path / "f.parquet", _frame())
    landing.write("bioreactor/2025/line-a/B1.parquet", data)
    landing.write("bioreactor/2026/B1.parquet", data)
    keys = ["bioreactor/2025/line-a/B1.parquet", "bioreactor/2026/B1.parquet"]
    first = ingest_files(landing, iceberg, keys[:1], {"B1"}, retry=False)
    assert list(first.accepted) == keys[:1]
    assert first.moved_to[keys[0]].endswith("/bioreactor/2025/line-a/B1.parquet")
    second = ingest_files(landing, iceberg, keys[1:], {"B1"}, retry=False)
    assert second.rejected[keys[1]].reason == "duplicate"  # one batch id, whatever the folder
    assert iceberg.read(BIOREACTOR_READINGS).num_rows == 120
