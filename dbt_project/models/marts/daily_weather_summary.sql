-- One row per city and day.
select
    city,
    obs_date,
    count(*) as hours_observed,
    avg(temperature_c) as temperature_mean_c,
    min(temperature_c) as temperature_min_c,
    max(temperature_c) as temperature_max_c,
    sum(precipitation_mm) as precipitation_total_mm,
    max(wind_speed_kmh) as wind_speed_max_kmh
from {{ ref('stg_weather') }}
group by city, obs_date
