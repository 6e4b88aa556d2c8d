"""Declarations of Iceberg tables: the schema, partitioning and Trino name of each, in one value."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import pyarrow as pa
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform

LAKE_CATALOG = "lake"  # Trino's catalog name for the Iceberg REST catalog


@dataclass(frozen=True)
class IcebergTable:
    """An Iceberg table wharf writes. `identity_partitions` name columns partitioned by value;
    `properties` are Iceberg table properties, kept on the table whenever it is loaded."""

    namespace: str
    name: str
    schema: Schema
    identity_partitions: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()

    @property
    def identifier(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def trino_name(self) -> str:
        """The name Trino and OpenLineage know the table by: catalog.schema.table."""
        return f"{LAKE_CATALOG}.{self.namespace}.{self.name}"

    @property
    def asset_key(self) -> dg.AssetKey:
        """Table assets are keyed by their Trino name, which is what lineage relies on."""
        return dg.AssetKey([LAKE_CATALOG, self.namespace, self.name])

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.as_arrow()

    def partition_spec(self) -> PartitionSpec:
        fields = [
            PartitionField(
                source_id=self.schema.find_field(column).field_id,
                field_id=1000 + i,
                transform=IdentityTransform(),
                name=column,
            )
            for i, column in enumerate(self.identity_partitions)
        ]
        return PartitionSpec(*fields)
