"""When weather runs: yesterday's observations each morning, and the nowcast every hour."""

from datetime import timedelta

import dagster as dg

from weather.assets import weather_freshness_checks, weather_nowcast, weather_observations
from weather.partitions import cities, daily_by_city, hourly

observations_job = dg.define_asset_job(
    "weather_observations_job",
    selection=[weather_observations],
    partitions_def=daily_by_city,
)
nowcast_job = dg.define_asset_job("weather_nowcast_job", selection=[weather_nowcast], partitions_def=hourly)


@dg.schedule(
    job=observations_job,
    cron_schedule="30 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_observations(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Yesterday (UTC) for every city: the archive publishes a day once it is complete."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return [
        dg.RunRequest(
            run_key=f"{day}|{city}",
            partition_key=dg.MultiPartitionKey({"date": day, "city": city}),
        )
        for city in cities.get_partition_keys()
    ]


hourly_nowcast = dg.build_schedule_from_partitioned_job(
    nowcast_job,
    minute_of_hour=10,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=weather_freshness_checks,
    name="weather_freshness",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
