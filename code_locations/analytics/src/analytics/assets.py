"""The dbt models as assets; dbt tests run in the same `dbt build` and surface as asset checks."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from analytics.project import wharf_dbt
from analytics.translator import WharfDbtTranslator

translator = WharfDbtTranslator()


@dbt_assets(
    manifest=wharf_dbt.manifest_path,
    project=wharf_dbt,
    dagster_dbt_translator=translator,
    retry_policy=dg.RetryPolicy(max_retries=1, delay=30),
)
def wharf_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    yield from dbt.cli(["build"], context=context).stream()
