"""What every code location's `Definitions` shares: the resources, the lineage sensors, and
declarative automation that runs from the first deployment (Dagster's own default sensor for it
starts stopped, so nothing would ever materialize by itself), and steps run in the run's own process."""

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
    running automation-condition sensor added.

    Every job runs its steps in the run's process: wharf's jobs are one step each (an ingest, a
    partition, one `dbt build`), and a step subprocess would add its own start-up (about 17 s per
    run here) and a second interpreter's memory to each run pod, for no parallelism. Retry policies
    still hold in process."""
    automation = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
    )
    return dg.Definitions(
        sensors=[*sensors, *lineage_sensors(), automation],
        resources={**shared_resources(), **(resources or {})},
        executor=dg.in_process_executor,
        **kwargs,
    )
