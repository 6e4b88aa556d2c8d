"""The dbt models as assets; dbt tests run in the same `dbt build` and surface as asset checks.

A failed test whose failing rows dbt stores (`store_failures`, the warn-level data-quality tests)
names them in its check's metadata, and the batches among them, so a flagged batch is found from
the Dagster UI without a query.
"""

import functools
import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from analytics.project import wharf_dbt
from analytics.translator import WharfDbtTranslator
from wharf_shared.trino import TrinoResource

translator = WharfDbtTranslator()
FAILING_ROWS_SHOWN = 20


@functools.cache
def _stored_failures() -> dict[str, str]:
    """unique_id -> the relation dbt stores a test's failing rows in, for tests that store them."""
    nodes = json.loads(wharf_dbt.manifest_path.read_text())["nodes"]
    return {
        unique_id: node["relation_name"]
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test" and node.get("relation_name")
    }


def naming_failures(event: Any, trino: TrinoResource) -> Any:
    """A failed check whose rows dbt stored, with those rows (and their batches) in its metadata."""
    if not isinstance(event, dg.AssetCheckResult) or event.passed:
        return event
    unique_id = event.metadata.get("unique_id")
    relation = _stored_failures().get(getattr(unique_id, "value", ""))
    if relation is None:
        return event
    rows = trino.records(f"select * from {relation} limit {FAILING_ROWS_SHOWN}")
    named: dict[str, Any] = {"failing_rows": dg.MetadataValue.json(json.loads(json.dumps(rows, default=str)))}
    if rows and "batch_id" in rows[0]:
        batches = trino.query(f"select distinct batch_id from {relation} order by batch_id")
        named["failing_batches"] = dg.MetadataValue.json([batch for (batch,) in batches])
    return dg.AssetCheckResult(
        asset_key=event.asset_key,
        check_name=event.check_name,
        passed=False,
        severity=event.severity,
        description=event.description,
        metadata={**event.metadata, **named},
    )


@dbt_assets(
    manifest=wharf_dbt.manifest_path,
    project=wharf_dbt,
    dagster_dbt_translator=translator,
    retry_policy=dg.RetryPolicy(max_retries=1, delay=30),
)
def wharf_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, trino: TrinoResource
) -> Iterator[Any]:
    # Column metadata: each model's columns and, from its compiled SQL, the columns they come from
    # (the column lineage the lineage sensors send to Marquez).
    for event in dbt.cli(["build"], context=context).stream().fetch_column_metadata():
        yield naming_failures(event, trino)
