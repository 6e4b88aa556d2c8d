"""The native service stack: Postgres, MinIO, Nessie, Trino and Dagster as local processes."""
