"""How dbt nodes become Dagster assets in wharf."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

# Models tagged so are rebuilt by the asset sensor on the bioreactor readings (batches arrive at
# any time and in bursts); every other model follows its upstreams by declarative automation.
SENSOR_DRIVEN_TAG = "bioreactor"


class WharfDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """`[catalog, schema, table]`: the Trino name, as for every table asset in wharf, so dbt
        sources resolve to the raw assets of the weather and bioreactor locations."""
        table = dbt_resource_props.get("alias") or dbt_resource_props.get("identifier")
        return dg.AssetKey(
            [
                dbt_resource_props["database"],
                dbt_resource_props["schema"],
                table or dbt_resource_props["name"],
            ]
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return f"dbt_{dbt_resource_props['fqn'][1]}"  # dbt_staging, dbt_intermediate, dbt_marts

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition[Any] | None:
        if dbt_resource_props["resource_type"] != "model":
            return None
        if SENSOR_DRIVEN_TAG in dbt_resource_props.get("tags", []):
            return None
        return dg.AutomationCondition.eager()
