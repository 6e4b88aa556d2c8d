-- Per-batch process statistics from the 5-minute series. Append-only like the batches themselves.
{{ config(materialized='incremental', incremental_strategy='append') }}

select
    batch_id,
    count(*) as buckets,
    avg(temperature_c) as temperature_mean_c,
    min(temperature_c) as temperature_min_c,
    max(temperature_c) as temperature_max_c,
    avg(ph) as ph_mean,
    min(ph) as ph_min,
    max(ph) as ph_max,
    avg(dissolved_oxygen_pct) as dissolved_oxygen_mean_pct,
    min(dissolved_oxygen_pct) as dissolved_oxygen_min_pct,
    avg(agitation_rpm) as agitation_mean_rpm,
    max(agitation_rpm) as agitation_max_rpm
from {{ ref('int_bioreactor_downsample_5m') }}
{% if is_incremental() %}
where batch_id not in (select batch_id from {{ this }})
{% endif %}
group by batch_id
