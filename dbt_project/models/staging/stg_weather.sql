-- One row per city and hour, typed and named for analysis.
select
    city,
    obs_date,
    observed_at,
    temperature_c,
    relative_humidity_pct,
    precipitation_mm,
    wind_speed_kmh,
    source as source_system
from {{ source('raw', 'weather_observations') }}
