"""The weather code location."""

from weather.assets import weather_freshness_checks, weather_monthly, weather_nowcast, weather_observations
from weather.schedules import (
    daily_observations,
    freshness_sensor,
    hourly_nowcast,
    nowcast_job,
    observations_job,
)
from weather.source import WeatherSource
from wharf_shared.definitions import location_definitions

defs = location_definitions(
    assets=[weather_observations, weather_nowcast, weather_monthly],
    asset_checks=weather_freshness_checks,
    jobs=[observations_job, nowcast_job],
    schedules=[daily_observations, hourly_nowcast],
    sensors=[freshness_sensor],
    resources={"weather_source": WeatherSource.from_env()},
)
