-- What a process engineer opens first: each batch, its run and its health in one row.
select
    b.batch_id,
    b.started_at,
    b.ended_at,
    b.duration_minutes,
    b.readings,
    s.longest_silence_minutes,
    s.temperature_mean_c,
    s.ph_mean,
    s.ph_min,
    s.dissolved_oxygen_min_pct,
    s.agitation_max_rpm,
    -- Flags from the raw readings' excursions (fact_bioreactor_batch_stats), limits from one table.
    s.temperature_excursions > 0 as temperature_excursion,
    s.ph_excursions > 0 as ph_excursion,
    s.dissolved_oxygen_excursions > 0 as oxygen_excursion,
    s.agitation_excursions > 0 as agitation_excursion
from {{ ref('dim_batch') }} as b
join {{ ref('fact_bioreactor_batch_stats') }} as s on s.batch_id = b.batch_id
