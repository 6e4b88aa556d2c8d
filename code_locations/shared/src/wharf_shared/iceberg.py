"""The Iceberg lake as a Dagster resource: Nessie's Iceberg REST endpoint, or a local SQL catalog.

Every write is a single Iceberg commit, so a failed run never leaves half a partition behind:
`append` adds rows, `replace` swaps exactly the rows a filter selects for new ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import pyarrow as pa
from pydantic import Field
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression

# What Transaction.append does per table, called per chunk so a large append is never whole in memory.
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table import Table

from wharf_shared.tables import IcebergTable


class IcebergCatalogResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Connection to the lake's Iceberg catalog.

    `uri` is either Nessie's REST endpoint (`http://nessie:19120/iceberg`) or, for the embedded
    profile, a folder (`file:///…`) holding a SQLite catalog and its warehouse.
    """

    uri: str = Field(description="Iceberg REST URI, or file:///folder for an embedded SQL catalog")
    warehouse: str = Field(default="lake", description="Warehouse name (REST) — ignored when embedded")
    s3_endpoint: str | None = Field(default=None, description="S3 endpoint; unset for AWS S3")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    @property
    def embedded(self) -> bool:
        return self.uri.startswith("file://")

    def catalog(self) -> Catalog:
        if self.embedded:
            root = Path(self.uri.removeprefix("file://"))
            (root / "warehouse").mkdir(parents=True, exist_ok=True)
            return load_catalog(
                "lake",
                type="sql",
                uri=f"sqlite:///{root / 'catalog.db'}",
                warehouse=(root / "warehouse").as_uri(),
            )
        properties = {
            "type": "rest",
            "uri": self.uri,
            "warehouse": self.warehouse,
            "s3.region": self.s3_region,
        }
        if self.s3_endpoint:
            properties |= {"s3.endpoint": self.s3_endpoint, "s3.path-style-access": "true"}
        if self.s3_access_key_id and self.s3_secret_access_key:
            properties |= {
                "s3.access-key-id": self.s3_access_key_id,
                "s3.secret-access-key": self.s3_secret_access_key,
            }
        return load_catalog("lake", **properties)

    def table(self, spec: IcebergTable) -> Table:
        """Load the table, creating its namespace and table on first use, with the spec's properties."""
        catalog = self.catalog()
        catalog.create_namespace_if_not_exists(spec.namespace)
        properties = dict(spec.properties)
        table = catalog.create_table_if_not_exists(
            spec.identifier, schema=spec.schema, partition_spec=spec.partition_spec(), properties=properties
        )
        if drifted := {k: v for k, v in properties.items() if table.properties.get(k) != v}:
            with table.transaction() as transaction:  # a table made before the property was declared
                transaction.set_properties(drifted)
            table = catalog.load_table(spec.identifier)
        return table

    def append(
        self, spec: IcebergTable, rows: pa.Table | Iterable[pa.Table], base: Table | None = None
    ) -> Table:
        """Append `rows` (a table, or chunks of one written as they come) in one commit. Given `base`,
        the table as a check read it, the commit is refused (CommitFailedException) if another one
        landed since: what was checked still holds."""
        table = base or self.table(spec)
        chunks = [rows] if isinstance(rows, pa.Table) else rows
        names = itertools.count()  # one sequence for the commit: a chunk's files never reuse a name
        with table.transaction() as transaction, transaction.update_snapshot().fast_append() as snapshot:
            for chunk in chunks:  # each chunk's data files are written, then forgotten: memory stays flat
                for data_file in _dataframe_to_data_files(
                    table_metadata=transaction.table_metadata,
                    write_uuid=snapshot.commit_uuid,
                    counter=names,
                    df=chunk.select(spec.arrow_schema.names).cast(spec.arrow_schema),
                    io=table.io,
                ):
                    snapshot.append_data_file(data_file)
        return table

    def replace(self, spec: IcebergTable, rows: pa.Table, where: BooleanExpression) -> tuple[Table, bool]:
        """Swap the rows `where` selects for `rows` in one commit; return (table, whether it changed).

        When the stored rows already equal `rows`, nothing is committed: re-running an unchanged
        partition costs a read, not a rewrite, and leaves no new snapshot behind.
        """
        table = self.table(spec)
        new = rows.select(spec.arrow_schema.names).cast(spec.arrow_schema)
        if _same_rows(table.scan(row_filter=where).to_arrow(), new):
            return table, False
        table.overwrite(new, overwrite_filter=where)
        return table, True

    def read(self, spec: IcebergTable, where: BooleanExpression | None = None) -> pa.Table:
        return self.table(spec).scan(row_filter=where or AlwaysTrue()).to_arrow()


def _same_rows(stored: pa.Table, new: pa.Table) -> bool:
    if stored.num_rows != new.num_rows:
        return False
    order = [(name, "ascending") for name in new.schema.names]
    return bool(stored.select(new.schema.names).cast(new.schema).sort_by(order).equals(new.sort_by(order)))
