-- One row per batch: when it ran and how much it logged.
select
    batch_id,
    min(reading_at) as started_at,
    max(reading_at) as ended_at,
    date_diff('minute', min(reading_at), max(reading_at)) as duration_minutes,
    count(*) as readings,
    min(source_file) as source_file
from {{ ref('stg_bioreactor') }}
group by batch_id
