"""The bioreactor code location."""

from bioreactor.assets import (
    bioreactor_control_limits,
    bioreactor_readings,
    channel_group_assets,
    landing_files,
)
from bioreactor.sensors import bioreactor_landing_sensor, ingest_job
from wharf_shared.definitions import location_definitions

defs = location_definitions(
    assets=[landing_files, bioreactor_readings, bioreactor_control_limits, *channel_group_assets],
    jobs=[ingest_job],
    sensors=[bioreactor_landing_sensor],
)
