"""Resources every wharf code location shares: the Iceberg lake, Trino, the S3 landing store, lineage."""
