-- Readings averaged over 5-minute buckets. Batches are append-only (a batch is ingested once, a
-- second file for it is quarantined), so each run adds only the batches not yet here.
{{ config(materialized='incremental', incremental_strategy='append') }}

with bucketed as (
    select
        batch_id,
        date_add('minute', -(minute(reading_at) % 5), date_trunc('minute', reading_at)) as bucket_start,
        temperature_c,
        ph,
        dissolved_oxygen_pct,
        agitation_rpm
    from {{ ref('stg_bioreactor') }}
    {% if is_incremental() %}
    where batch_id not in (select distinct batch_id from {{ this }})
    {% endif %}
)

select
    batch_id,
    bucket_start,
    count(*) as readings,
    avg(temperature_c) as temperature_c,
    avg(ph) as ph,
    avg(dissolved_oxygen_pct) as dissolved_oxygen_pct,
    avg(agitation_rpm) as agitation_rpm
from bucketed
group by batch_id, bucket_start
