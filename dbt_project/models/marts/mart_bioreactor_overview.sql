-- What a process engineer opens first: each batch, its run and its health in one row.
select
    b.batch_id,
    b.started_at,
    b.ended_at,
    b.duration_minutes,
    b.readings,
    s.temperature_mean_c,
    s.ph_mean,
    s.ph_min,
    s.dissolved_oxygen_min_pct,
    s.agitation_max_rpm,
    (s.temperature_min_c < 36.5 or s.temperature_max_c > 37.5) as temperature_excursion,
    (s.ph_min < 6.8 or s.ph_max > 7.4) as ph_excursion,
    s.dissolved_oxygen_min_pct < 20 as oxygen_limited
from {{ ref('dim_batch') }} as b
join {{ ref('fact_bioreactor_batch_stats') }} as s on s.batch_id = b.batch_id
