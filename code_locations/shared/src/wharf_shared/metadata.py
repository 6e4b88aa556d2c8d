"""Materialization metadata every table asset reports: row counts, schema, a preview, the snapshot."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pyarrow as pa
from pyiceberg.table import Table

from wharf_shared.tables import IcebergTable

PREVIEW_ROWS = 5


def _markdown_preview(rows: pa.Table) -> str:
    head = rows.slice(0, PREVIEW_ROWS).to_pylist()
    names = rows.schema.names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(str(row[n]) for n in names) + " |" for row in head]
    return "\n".join(lines)


def table_metadata(
    spec: IcebergTable, rows: pa.Table, table: Table, changed: bool = True, rows_written: int | None = None
) -> dict[str, Any]:
    """Metadata for a commit of `rows` to `table` (or of `rows_written` rows that `rows` begins).

    One run may write many partitions and Dagster attaches the same metadata to each, so the
    run's figure is `rows_written`; `dagster/row_count` is the whole table after the commit.
    """
    schema = dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in rows.schema])
    metadata: dict[str, Any] = {
        "rows_written": (rows.num_rows if rows_written is None else rows_written) if changed else 0,
        "changed": changed,
        "dagster/column_schema": schema,
        "dagster/table_name": spec.trino_name,
        "preview": dg.MetadataValue.md(_markdown_preview(rows)),
    }
    snapshot = table.current_snapshot()
    if snapshot is not None:
        metadata["iceberg/snapshot_id"] = snapshot.snapshot_id
        if snapshot.summary is not None and "total-records" in snapshot.summary:
            metadata["dagster/row_count"] = int(snapshot.summary["total-records"])
    return metadata
