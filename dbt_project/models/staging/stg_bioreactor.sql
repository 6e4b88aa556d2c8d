-- One row per reading, as the reactor logged it.
select
    batch_id,
    ts as reading_at,
    temperature_c,
    ph,
    dissolved_oxygen_pct,
    agitation_rpm,
    source_file
from {{ source('raw', 'bioreactor_readings') }}
