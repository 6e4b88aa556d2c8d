"""The bioreactor code location."""

from bioreactor.assets import (
    bioreactor_control_limits,
    bioreactor_readings,
    channel_statistics,
    landing_files,
)
from bioreactor.sensors import bioreactor_landing_sensor, ingest_job
from wharf_shared.definitions import location_definitions

defs = location_definitions(
    assets=[landing_files, bioreactor_readings, bioreactor_control_limits, channel_statistics],
    jobs=[ingest_job],
    sensors=[bioreactor_landing_sensor],
)
