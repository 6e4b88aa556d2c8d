"""Writes realistic batch files into a landing store, for demos and tests; `--bad` writes broken ones.

    wharf-bioreactor-generate --landing s3://landing --batches 3
    wharf-bioreactor-generate --landing file:///tmp/landing --bad corrupt --batch-id B-BAD-1

A batch is a fed-batch culture logged once a minute: temperature held near 37 °C, pH drifting down
as lactate builds and corrected by base, dissolved oxygen falling as cells grow while agitation
ramps up to hold it.
"""

from __future__ import annotations

import argparse
import io
import math
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from bioreactor.batch_files import LANDING_PREFIX
from wharf_shared.environment import PlatformEnvironment, profile
from wharf_shared.landing import LandingStore

BAD_MODES = (
    "corrupt",
    "empty",
    "wrong-schema",
    "out-of-range",
    "nulls",
    "nan",
    "infinite",
    "duplicate-timestamps",
    "future",
    "too-early",
    "too-long",
    "duplicate",
)


def batch_table(batch_id: str, start: datetime, minutes: int, seed: int) -> pa.Table:
    """One batch's readings; the same arguments give the same table."""
    rng = random.Random(f"{batch_id}:{seed}")
    rows: dict[str, list[object]] = {
        k: [] for k in ("batch_id", "ts", "temperature_c", "ph", "dissolved_oxygen_pct", "agitation_rpm")
    }
    for minute in range(minutes):
        growth = 1 / (1 + math.exp(-(minute - minutes / 2) / (minutes / 10)))
        rows["batch_id"].append(batch_id)
        rows["ts"].append(start + timedelta(minutes=minute))
        rows["temperature_c"].append(round(37.0 + rng.gauss(0, 0.15), 3))
        rows["ph"].append(round(7.2 - 0.25 * growth + rng.gauss(0, 0.02), 3))
        rows["dissolved_oxygen_pct"].append(round(max(5.0, 60 - 30 * growth + rng.gauss(0, 2)), 2))
        rows["agitation_rpm"].append(round(120 + 80 * growth + rng.gauss(0, 3), 1))
    return pa.table(
        rows,
        schema=pa.schema(
            [
                ("batch_id", pa.string()),
                ("ts", pa.timestamp("us", tz="UTC")),
                ("temperature_c", pa.float64()),
                ("ph", pa.float64()),
                ("dissolved_oxygen_pct", pa.float64()),
                ("agitation_rpm", pa.float64()),
            ]
        ),
    )


def to_parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def bad_file(mode: str, batch_id: str, start: datetime, seed: int) -> bytes:
    """The bytes of a file broken the way `mode` says (`duplicate` is a valid file, written twice)."""
    good = batch_table(batch_id, start, 60, seed)
    if mode == "corrupt":
        return to_parquet(good)[:200]  # truncated mid-file: the footer is gone
    if mode == "empty":
        return b""
    if mode == "wrong-schema":
        return to_parquet(
            good.drop_columns(["ph"]).rename_columns(
                ["batch_id", "ts", "temp", "dissolved_oxygen_pct", "agitation_rpm"]
            )
        )
    if mode in ("out-of-range", "nan", "infinite"):
        column, value = {
            "out-of-range": ("ph", 19.5),
            "nan": ("temperature_c", math.nan),
            "infinite": ("ph", math.inf),
        }[mode]
        values = good[column].to_pylist()
        values[10] = value
        return to_parquet(good.set_column(good.schema.get_field_index(column), column, pa.array(values)))
    if mode == "nulls":
        values = good["ph"].to_pylist()
        values[10] = None
        return to_parquet(
            good.set_column(good.schema.get_field_index("ph"), "ph", pa.array(values, pa.float64()))
        )
    if mode == "duplicate-timestamps":
        stamps = good["ts"].to_pylist()
        stamps[11] = stamps[10]
        return to_parquet(
            good.set_column(good.schema.get_field_index("ts"), "ts", pa.array(stamps, good["ts"].type))
        )
    if mode in ("future", "too-early"):
        moved = (
            datetime.now(UTC) + timedelta(days=1) if mode == "future" else datetime(1990, 1, 1, tzinfo=UTC)
        )
        return to_parquet(batch_table(batch_id, moved, 60, seed))
    if mode == "too-long":  # the last reading stamped 90 days after the first
        stamps = good["ts"].to_pylist()
        stamps[-1] = stamps[0] + timedelta(days=90)
        return to_parquet(
            good.set_column(good.schema.get_field_index("ts"), "ts", pa.array(stamps, good["ts"].type))
        )
    if mode == "duplicate":
        return to_parquet(good)
    raise ValueError(f"unknown bad mode {mode!r}; one of {BAD_MODES}")


def landing_store(url: str | None) -> LandingStore:
    """The store at `url`, else the platform's landing store; S3 is located by the environment contract."""
    if profile() != "services":
        if url is None:
            raise SystemExit("--landing is needed outside the services profile (e.g. file:///tmp/landing)")
        return LandingStore(url=url)
    contract = PlatformEnvironment.from_env()
    return LandingStore(
        url=url or contract.landing_url,
        s3_endpoint=contract.s3_endpoint or None,
        s3_region=contract.s3_region,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--landing", help="landing store URL: s3://bucket or file:///folder (default: the platform's)"
    )
    parser.add_argument("--batches", type=int, default=1, help="number of good batches to write")
    parser.add_argument("--batch-id", help="batch id (default: B-<date>-<n>)")
    parser.add_argument("--minutes", type=int, default=24 * 60, help="readings per batch, one a minute")
    parser.add_argument("--start", default="2025-06-01T00:00:00+00:00", help="first reading (ISO)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bad", choices=BAD_MODES, help="write one broken file of this kind instead")
    args = parser.parse_args(argv)

    landing = landing_store(args.landing)
    start = datetime.fromisoformat(args.start).astimezone(UTC)
    if args.bad:
        batch_id = args.batch_id or f"B-BAD-{args.bad}"
        landing.write(f"{LANDING_PREFIX}{batch_id}.parquet", bad_file(args.bad, batch_id, start, args.seed))
        print(f"wrote {args.bad} file {landing.uri(LANDING_PREFIX + batch_id + '.parquet')}")
        return
    for n in range(args.batches):
        batch_start = start + timedelta(days=n)
        batch_id = args.batch_id if args.batch_id and args.batches == 1 else f"B-{batch_start:%Y%m%d}-{n:03d}"
        key = f"{LANDING_PREFIX}{batch_id}.parquet"
        landing.write(key, to_parquet(batch_table(batch_id, batch_start, args.minutes, args.seed)))
        print(f"wrote {landing.uri(key)} ({args.minutes} readings)")


if __name__ == "__main__":
    main()
