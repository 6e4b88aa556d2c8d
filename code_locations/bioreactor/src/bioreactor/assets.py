"""The bioreactor assets: the landing prefix, the readings table, and per-channel-group statistics."""

import hashlib
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import AlwaysTrue, In

from bioreactor.batch_files import LANDING_PREFIX
from bioreactor.ingestion import ingest_files
from bioreactor.tables import BIOREACTOR_CONTROL_LIMITS, BIOREACTOR_READINGS, channel_stats_table
from wharf_shared.iceberg import IcebergCatalogResource
from wharf_shared.landing import LandingStore
from wharf_shared.metadata import table_metadata

BATCHES = "bioreactor_batches"
batches = dg.DynamicPartitionsDefinition(name=BATCHES)
LANDING_KEY = dg.AssetKey(["landing", "bioreactor"])


@dg.observable_source_asset(
    key=LANDING_KEY,
    group_name="bioreactor",
    description="Batch files waiting under s3://landing/bioreactor/.",
)
def landing_files(landing: LandingStore) -> dg.ObserveResult:
    files = landing.list(LANDING_PREFIX)
    newest = files[-1] if files else None
    return dg.ObserveResult(
        data_version=dg.DataVersion(f"{newest.key}@{newest.etag}" if newest else "empty"),
        metadata={
            "file_count": len(files),
            "newest_file": newest.key if newest else "",
            "newest_modified": newest.modified.isoformat() if newest else "",
        },
    )


class LandedFiles(dg.Config):
    keys: list[str]  # the landing keys of the batch files this run ingests, one per batch
    attempt: int = 0  # failed earlier runs of these uploads (the landing sensor retries them)


@dg.asset(
    key=BIOREACTOR_READINGS.asset_key,
    deps=[LANDING_KEY],
    partitions_def=batches,
    backfill_policy=dg.BackfillPolicy.single_run(),  # a burst of new batches is one run
    output_required=False,
    check_specs=[
        dg.AssetCheckSpec(
            "file_accepted",
            asset=BIOREACTOR_READINGS.asset_key,
            description="Every batch file of the run met the contract and was ingested.",
        )
    ],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL),
    code_version="2",
    group_name="bioreactor",
    kinds={"iceberg", "python"},
    tags={"layer": "raw"},
    description="Reactor readings, one partition per batch, appended once per accepted file.",
)
def bioreactor_readings(
    context: dg.AssetExecutionContext,
    config: LandedFiles,
    landing: LandingStore,
    iceberg: IcebergCatalogResource,
) -> Iterator[dg.AssetCheckResult]:
    """Ingest the run's files (see `bioreactor.ingestion`): a materialization for each accepted
    batch, a bad file quarantined with its reason, one check result for the run's files."""
    retry = config.attempt > 0 or context.retry_number > 0
    outcome = ingest_files(landing, iceberg, config.keys, set(context.partition_keys), retry)
    for key in outcome.gone:
        context.log.info(f"{key} is no longer waiting: already ingested or quarantined")
    for key, rejection in outcome.rejected.items():
        context.log.warning(f"quarantined {key} -> {outcome.moved_to[key]}: {rejection}")
    for key, batch in outcome.accepted.items():
        assert outcome.table is not None  # accepted files were committed
        metadata = table_metadata(
            BIOREACTOR_READINGS, batch.preview, outcome.table, rows_written=batch.readings
        )
        context.log_event(
            dg.AssetMaterialization(
                asset_key=BIOREACTOR_READINGS.asset_key,
                partition=batch.batch_id,
                metadata={**metadata, "source_file": landing.uri(outcome.moved_to[key])},
            )
        )
    yield dg.AssetCheckResult(
        check_name="file_accepted",
        passed=not outcome.rejected,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files": len(config.keys),
            "accepted": len(outcome.accepted) + len(outcome.completed),
            **{f"{step}_seconds": round(seconds, 3) for step, seconds in outcome.seconds.items()},
            "quarantined": dg.MetadataValue.json(
                {
                    key: {"reason": r.reason, "message": str(r), "as": landing.uri(outcome.moved_to[key])}
                    for key, r in outcome.rejected.items()
                }
            ),
        },
    )


# Process control limits, tighter than the instrument limits that decide quarantine. The one
# place they are written: the channel statistics use them here, the dbt marts through the
# `lake.raw.bioreactor_control_limits` table below. A reading outside them is an excursion.
CONTROL_LIMITS: dict[str, tuple[float, float]] = {
    "temperature_c": (36.5, 37.5),
    "ph": (6.8, 7.4),
    "dissolved_oxygen_pct": (20.0, 80.0),
    "agitation_rpm": (80.0, 250.0),
}
LIMITS_VERSION = hashlib.sha256(repr(sorted(CONTROL_LIMITS.items())).encode()).hexdigest()[:12]


# Made whenever it is missing, the first evaluation included (`on_missing()` only makes what goes
# missing after it is first evaluated, so a fresh platform never got the table and every models run
# failed on it), unless a run of it is in flight or its last run failed (the run's own retries
# apply); and again when the limits change.
LIMITS_WANTED = (
    dg.AutomationCondition.missing()
    & ~dg.AutomationCondition.in_progress()
    & ~dg.AutomationCondition.execution_failed()
) | dg.AutomationCondition.code_version_changed()


# The daemon first wants the table as the platform comes up, when the lake may still be starting
# (on a fresh cluster Nessie waits for its database): retried within the run for about a quarter of
# an hour, 30 s doubling, rather than failing three runs in two minutes and waiting for a person.
LAKE_STARTING = dg.RetryPolicy(max_retries=5, delay=30, backoff=dg.Backoff.EXPONENTIAL)


@dg.asset(
    key=BIOREACTOR_CONTROL_LIMITS.asset_key,
    code_version=LIMITS_VERSION,  # a changed limit makes the table (and the marts) stale
    automation_condition=LIMITS_WANTED,
    retry_policy=LAKE_STARTING,
    group_name="bioreactor",
    kinds={"iceberg", "python"},
    tags={"layer": "raw"},
    description="The process control limits per channel, as the marts read them.",
)
def bioreactor_control_limits(iceberg: IcebergCatalogResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    rows = pa.table(
        {
            "channel": list(CONTROL_LIMITS),
            "low": [low for low, _ in CONTROL_LIMITS.values()],
            "high": [high for _, high in CONTROL_LIMITS.values()],
        },
        schema=BIOREACTOR_CONTROL_LIMITS.arrow_schema,
    )
    table, changed = iceberg.replace(BIOREACTOR_CONTROL_LIMITS, rows, AlwaysTrue())
    return dg.MaterializeResult(
        metadata={**table_metadata(BIOREACTOR_CONTROL_LIMITS, rows, table), "changed": changed}
    )


CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "thermal": ("temperature_c",),
    "chemistry": ("ph", "dissolved_oxygen_pct"),
    "mechanics": ("agitation_rpm",),
}


def channel_stats(batch_id: str, readings: pa.Table, channels: tuple[str, ...]) -> list[dict[str, object]]:
    """Count, mean, extremes and control-limit excursions of each channel for one batch."""
    stats = []
    for channel in channels:
        values = readings[channel]
        low, high = CONTROL_LIMITS[channel]
        stats.append(
            {
                "batch_id": batch_id,
                "channel": channel,
                "readings": len(values),
                "mean": pc.mean(values).as_py(),
                "minimum": pc.min(values).as_py(),
                "maximum": pc.max(values).as_py(),
                "excursions": pc.sum(pc.or_(pc.less(values, low), pc.greater(values, high))).as_py() or 0,
            }
        )
    return stats


STATS_TABLES = {group: channel_stats_table(group) for group in CHANNEL_GROUPS}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=spec.asset_key,
            deps=[BIOREACTOR_READINGS.asset_key],
            partitions_def=batches,
            automation_condition=dg.AutomationCondition.eager(),
            code_version="1",
            group_name="bioreactor",
            kinds={"iceberg", "python"},
            tags={"layer": "curated", "channel_group": group},
            description=f"Per-batch statistics and excursions of {', '.join(CHANNEL_GROUPS[group])}.",
            skippable=True,
        )
        for group, spec in STATS_TABLES.items()
    ],
    can_subset=True,
    backfill_policy=dg.BackfillPolicy.single_run(),  # automation asks one run per burst of batches
    name="channel_statistics",
)
def channel_statistics(
    context: dg.AssetExecutionContext, iceberg: IcebergCatalogResource
) -> Iterator[dg.MaterializeResult]:  # type: ignore[type-arg]
    """One read of the batches' readings, one table per channel group: a group is materialized on
    its own (the asset can be subset), so a chemistry alarm need not wait on thermal statistics.
    A burst of new batches is one run over their range, one commit per table."""
    batch_ids = list(context.partition_keys)
    readings = iceberg.read(BIOREACTOR_READINGS, In("batch_id", batch_ids))
    per_batch = {b: readings.filter(pc.equal(readings["batch_id"], b)) for b in batch_ids}
    if empty := [b for b, rows in per_batch.items() if rows.num_rows == 0]:
        raise dg.Failure(f"batches {empty} have no rows in {BIOREACTOR_READINGS.trino_name}")
    for group, spec in STATS_TABLES.items():
        if spec.asset_key not in context.selected_asset_keys:
            continue
        stats = [
            row for b, rows in per_batch.items() for row in channel_stats(b, rows, CHANNEL_GROUPS[group])
        ]
        rows = pa.Table.from_pylist(stats, schema=spec.arrow_schema)
        table, changed = iceberg.replace(spec, rows, In("batch_id", batch_ids))
        yield dg.MaterializeResult(
            asset_key=spec.asset_key,
            metadata={
                **table_metadata(spec, rows, table, changed),
                "excursions": sum(rows["excursions"].to_pylist()),
            },
        )
