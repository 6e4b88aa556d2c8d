-- Per-batch process statistics from the raw readings, the logger's longest silence, and per channel the count of readings
-- outside the control limits (as the bioreactor location's channel statistics count them: a
-- one-minute spike is an excursion even when its 5-minute average is not). Append-only like the
-- batches themselves.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}

with limits as (
    select
        max(case when channel = 'temperature_c' then low end) as temperature_low,
        max(case when channel = 'temperature_c' then high end) as temperature_high,
        max(case when channel = 'ph' then low end) as ph_low,
        max(case when channel = 'ph' then high end) as ph_high,
        max(case when channel = 'dissolved_oxygen_pct' then low end) as dissolved_oxygen_low,
        max(case when channel = 'dissolved_oxygen_pct' then high end) as dissolved_oxygen_high,
        max(case when channel = 'agitation_rpm' then low end) as agitation_low,
        max(case when channel = 'agitation_rpm' then high end) as agitation_high
    from {{ source('raw', 'bioreactor_control_limits') }}
),

readings as (
    select * from {{ ref('stg_bioreactor') }}
    {% if is_incremental() %}
    where batch_id not in (select batch_id from {{ this }})
    {% endif %}
),

-- The longest silence of a batch's logger, in whole 5-minute buckets: read from the downsample (a
-- few buckets an hour), since a window over every reading of a long batch outgrows Trino's memory.
silences as (
    select batch_id, max(date_diff('minute', previous_bucket, bucket_start)) - 5 as longest_silence_minutes
    from (
        select
            batch_id,
            bucket_start,
            lag(bucket_start) over (partition by batch_id order by bucket_start) as previous_bucket
        from {{ ref('int_bioreactor_downsample_5m') }}
        {% if is_incremental() %}
        where batch_id not in (select batch_id from {{ this }})
        {% endif %}
    ) as buckets
    group by batch_id
)

select
    r.batch_id,
    count(*) as readings,
    coalesce(max(g.longest_silence_minutes), 0) as longest_silence_minutes,
    avg(r.temperature_c) as temperature_mean_c,
    min(r.temperature_c) as temperature_min_c,
    max(r.temperature_c) as temperature_max_c,
    avg(r.ph) as ph_mean,
    min(r.ph) as ph_min,
    max(r.ph) as ph_max,
    avg(r.dissolved_oxygen_pct) as dissolved_oxygen_mean_pct,
    min(r.dissolved_oxygen_pct) as dissolved_oxygen_min_pct,
    avg(r.agitation_rpm) as agitation_mean_rpm,
    max(r.agitation_rpm) as agitation_max_rpm,
    count_if(r.temperature_c < l.temperature_low or r.temperature_c > l.temperature_high)
        as temperature_excursions,
    count_if(r.ph < l.ph_low or r.ph > l.ph_high) as ph_excursions,
    count_if(r.dissolved_oxygen_pct < l.dissolved_oxygen_low or r.dissolved_oxygen_pct > l.dissolved_oxygen_high)
        as dissolved_oxygen_excursions,
    count_if(r.agitation_rpm < l.agitation_low or r.agitation_rpm > l.agitation_high) as agitation_excursions
from readings as r
cross join limits as l
left join silences as g on g.batch_id = r.batch_id
group by r.batch_id
