"""What every code location's `Definitions` shares: the resources, the lineage sensors, and
declarative automation that runs from the first deployment (Dagster's own default sensor for it
starts stopped, so nothing would ever materialize by itself)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from wharf_shared.lineage import lineage_sensors
from wharf_shared.profiles import shared_resources

AUTOMATION_SENSOR = "default_automation_condition_sensor"


def location_definitions(
    *, sensors: Sequence[Any] = (), resources: dict[str, Any] | None = None, **kwargs: Any
) -> dg.Definitions:
    """`Definitions` with the shared resources (for `$WHARF_PROFILE`), the lineage sensors and a
    running automation-condition sensor added."""
    automation = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
    )
    return dg.Definitions(
        sensors=[*sensors, *lineage_sensors(), automation],
        resources={**shared_resources(), **(resources or {})},
        **kwargs,
    )
