"""analytics: the dbt project on Trino as Dagster assets, its schedules, and lake maintenance."""
