"""What every code location's `Definitions` shares: the resources and the lineage sensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from wharf_shared.lineage import lineage_sensors
from wharf_shared.profiles import shared_resources


def location_definitions(
    *, sensors: Sequence[Any] = (), resources: dict[str, Any] | None = None, **kwargs: Any
) -> dg.Definitions:
    """`Definitions` with the shared resources (for `$WHARF_PROFILE`) and lineage sensors added."""
    return dg.Definitions(
        sensors=[*sensors, *lineage_sensors()],
        resources={**shared_resources(), **(resources or {})},
        **kwargs,
    )
