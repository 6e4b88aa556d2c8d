"""The dashboards under `dashboards/`, rendered to Superset's import bundle (a ZIP of YAML files).

The declarative form (see dashboards/README.md) names datasets, charts and a layout; this module
turns it into Superset's export format: one database per catalog the datasets read, datasets with
the columns the charts use, charts with their form data and a saved query context (so each chart's
data endpoint answers, as it does for a chart saved in the UI), and the dashboard's grid. Every
uuid is derived from the dashboard's slug and the object's name, so re-importing overwrites the
same objects; each dashboard is a bundle of its own, imported only when its files changed.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.contract.endpoints import Endpoints
from wharf_infra.contract.superset import SUPERSET_CATALOGS, catalog_uri, connection_name
from wharf_infra.contract.superset_api import SOURCE_KEY, Bundle
from wharf_infra.core.paths import REPO_ROOT

DASHBOARDS_DIR = REPO_ROOT / "dashboards"
IMPORT_VERSION = "1.0.0"  # Superset's export format version
ROW_LIMIT = 10000
GRID_COLUMNS = 12
_NAMESPACE = uuid.UUID("8c9b3c52-4a43-4c62-9a4b-2f1d6f0e7a11")  # wharf's dashboards
_KINDS = {"table": "table", "bar": "echarts_timeseries_bar", "line": "echarts_timeseries_line"}


class DashboardError(ValueError):
    """A dashboard file that cannot be rendered; the message names the file and what to fix."""


@dataclass(frozen=True)
class Dataset:
    key: str
    catalog: str
    schema: str | None
    table: str
    sql: str | None
    reads: tuple[str, ...]  # the Trino tables it reads (`catalog.schema.table`): its lineage


@dataclass(frozen=True)
class Chart:
    title: str
    dataset: str
    kind: str
    spec: dict[str, Any]
    width: int


@dataclass(frozen=True)
class Dashboard:
    title: str
    slug: str
    datasets: dict[str, Dataset]
    charts: tuple[Chart, ...]

    @property
    def reads(self) -> tuple[str, ...]:
        """Every Trino table the dashboard's charts read."""
        return tuple(sorted({table for dataset in self.datasets.values() for table in dataset.reads}))

    def uuid(self, kind: str, name: str = "") -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.slug}/{kind}/{name}"))


def _fail(path: Path, message: str) -> DashboardError:
    return DashboardError(f"{path.name}: {message} (see dashboards/README.md for the form)")


def _dataset(path: Path, key: str, raw: dict[str, Any]) -> Dataset:
    if "table" in raw:
        parts = str(raw["table"]).split(".")
        if len(parts) != 3:
            raise _fail(path, f"dataset {key!r}: table must be <catalog>.<schema>.<table>: {raw['table']!r}")
        catalog, schema, table = parts
        sql, reads = None, (str(raw["table"]),)
    elif "sql" in raw:
        catalog, schema, table, sql = str(raw.get("catalog", "marts")), None, key, str(raw["sql"])
        reads = tuple(raw.get("reads", ()))
        unnamed = [name for name in reads if name not in sql]
        if not reads or unnamed:
            raise _fail(path, f"dataset {key!r}: `reads` lists every table its query reads, not {unnamed}")
    else:
        raise _fail(path, f"dataset {key!r} needs `table` or `sql`")
    if catalog not in SUPERSET_CATALOGS:
        readable = ", ".join(SUPERSET_CATALOGS)
        raise _fail(path, f"dataset {key!r} reads catalog {catalog!r}; Superset may read {readable}")
    return Dataset(key=key, catalog=catalog, schema=schema, table=table, sql=sql, reads=reads)


_NEEDS = {"table": ("columns",), "bar": ("x", "metrics"), "line": ("x", "grain", "metrics")}


def _chart(path: Path, raw: dict[str, Any], datasets: dict[str, Dataset]) -> Chart:
    title = raw.get("title")
    kind = raw.get("kind")
    if not title or kind not in _KINDS:
        raise _fail(path, f"chart {title!r}: needs a title and a kind of {', '.join(_KINDS)}")
    if raw.get("dataset") not in datasets:
        raise _fail(path, f"chart {title!r}: dataset {raw.get('dataset')!r} is not one of {sorted(datasets)}")
    missing = [key for key in _NEEDS[kind] if key not in raw]
    if missing:
        raise _fail(path, f"chart {title!r} ({kind}) needs {', '.join(missing)}")
    width = int(raw.get("width", GRID_COLUMNS))
    if not 1 <= width <= GRID_COLUMNS:
        raise _fail(path, f"chart {title!r}: width must be 1..{GRID_COLUMNS}")
    return Chart(title=title, dataset=raw["dataset"], kind=kind, spec=raw, width=width)


def load(path: Path) -> Dashboard:
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or not {"title", "slug", "datasets", "charts"} <= raw.keys():
        raise _fail(path, "a dashboard needs title, slug, datasets and charts")
    datasets = {key: _dataset(path, key, spec) for key, spec in raw["datasets"].items()}
    charts = tuple(_chart(path, spec, datasets) for spec in raw["charts"])
    titles = [chart.title for chart in charts]
    if len(set(titles)) != len(titles):
        raise _fail(path, "chart titles must be unique within a dashboard (they name the charts)")
    return Dashboard(title=raw["title"], slug=raw["slug"], datasets=datasets, charts=charts)


def dashboards(folder: Path = DASHBOARDS_DIR) -> list[Dashboard]:
    loaded = [load(path) for path in sorted(folder.glob("*.yaml"))]
    slugs = [d.slug for d in loaded]
    if len(set(slugs)) != len(slugs):
        raise DashboardError(f"dashboard slugs must be unique: {slugs}")
    return loaded


# -- charts: form data (what the UI renders) and query context (what the data endpoint runs) ------


def _metrics(chart: Chart) -> list[dict[str, Any]]:
    return [
        {"expressionType": "SQL", "sqlExpression": sql, "label": label}
        for label, sql in chart.spec.get("metrics", {}).items()
    ]


def _filters(chart: Chart) -> list[dict[str, Any]]:
    where = chart.spec.get("where")
    return [{"clause": "WHERE", "expressionType": "SQL", "sqlExpression": where}] if where else []


def _order(chart: Chart) -> tuple[str, bool] | None:
    order = chart.spec.get("order_by")
    return (order.lstrip("-"), not order.startswith("-")) if order else None


def form_data(chart: Chart) -> dict[str, Any]:
    common = {"viz_type": _KINDS[chart.kind], "adhoc_filters": _filters(chart), "row_limit": ROW_LIMIT}
    if chart.kind == "table":
        order = _order(chart)
        return common | {
            "query_mode": "raw",
            "all_columns": list(chart.spec["columns"]),
            "order_by_cols": [json.dumps([order[0], order[1]])] if order else [],
            "server_pagination": False,
        }
    axis = {
        "x_axis": chart.spec["x"],
        "metrics": _metrics(chart),
        "groupby": list(chart.spec.get("group_by", [])),
        "annotation_layers": [],
        "show_legend": True,
        "rich_tooltip": True,
    }
    if "grain" in chart.spec:
        axis["time_grain_sqla"] = chart.spec["grain"]
    if chart.kind == "bar":
        return common | axis | {"orientation": "vertical", "x_axis_sort_asc": True}
    # Readings sit far from zero (37 °C, pH 7): the axis fits the data rather than starting at 0.
    return common | axis | {"markerEnabled": False, "truncateYAxis": True, "y_axis_bounds": [None, None]}


def _query(chart: Chart) -> dict[str, Any]:
    base: dict[str, Any] = {
        "filters": [],
        "extras": {"having": "", "where": f"({chart.spec['where']})" if chart.spec.get("where") else ""},
        "row_limit": ROW_LIMIT,
        "annotation_layers": [],
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }
    if chart.kind == "table":
        order = _order(chart)
        return base | {
            "columns": list(chart.spec["columns"]),
            "metrics": [],
            "orderby": [list(order)] if order else [],
        }
    axis: dict[str, Any] = {
        "columnType": "BASE_AXIS",
        "sqlExpression": chart.spec["x"],
        "label": chart.spec["x"],
        "expressionType": "SQL",
    }
    if "grain" in chart.spec:
        axis["timeGrain"] = chart.spec["grain"]
        base["extras"]["time_grain_sqla"] = chart.spec["grain"]
        base["filters"] = [{"col": chart.spec["x"], "op": "TEMPORAL_RANGE", "val": "No filter"}]
    group_by = list(chart.spec.get("group_by", []))
    return base | {
        "columns": [axis, *group_by],
        "series_columns": group_by,
        "metrics": _metrics(chart),
        "orderby": [[chart.spec["x"], True]],
    }


def query_context(chart: Chart) -> str:
    """What the chart's data endpoint (`GET /api/v1/chart/<id>/data/`) runs: one query, its rows
    flat (the axis, the groups and one column per metric). The import fills in the dataset's id."""
    return json.dumps(
        {
            "datasource": {"id": 0, "type": "table"},
            "force": False,
            "queries": [_query(chart)],
            "form_data": form_data(chart),
            "result_format": "json",
            "result_type": "full",
        }
    )


# -- the bundle ----------------------------------------------------------------------------------


def _columns(dashboard: Dashboard, dataset: str) -> list[dict[str, Any]]:
    """The columns the charts use (Superset queries only columns its dataset declares); an axis
    with a time grain is temporal."""
    names: dict[str, bool] = {}
    for chart in dashboard.charts:
        if chart.dataset != dataset:
            continue
        for column in [*chart.spec.get("columns", []), *chart.spec.get("group_by", [])]:
            names.setdefault(column, False)
        if "x" in chart.spec:
            names[chart.spec["x"]] = names.get(chart.spec["x"], False) or "grain" in chart.spec
    return [
        {"column_name": name, "is_dttm": temporal, "groupby": True, "filterable": True}
        for name, temporal in names.items()
    ]


def _layout(dashboard: Dashboard) -> dict[str, Any]:
    """Superset's grid: ROOT → GRID → rows of charts, each row at most 12 columns wide."""
    rows: list[list[Chart]] = [[]]
    for chart in dashboard.charts:
        if sum(c.width for c in rows[-1]) + chart.width > GRID_COLUMNS:
            rows.append([])
        rows[-1].append(chart)
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": dashboard.title}},
    }
    for index, row in enumerate(rows):
        row_id = f"ROW-{index}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for chart in row:
            chart_id = f"CHART-{dashboard.uuid('chart', chart.title)[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "chartId": 0,
                    "uuid": dashboard.uuid("chart", chart.title),
                    "sliceName": chart.title,
                    "width": chart.width,
                    "height": 60 if chart.kind == "table" else 50,
                },
            }
    return position


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def bundle_files(endpoints: Endpoints, dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    """Every file of one dashboard's bundle (path → YAML content, without the root folder); the
    dashboard's metadata carries the digest of the rest (`SOURCE_KEY`), so an importer can tell
    whether Superset already holds exactly these files."""
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": IMPORT_VERSION, "type": "assets"},
    }
    for catalog in SUPERSET_CATALOGS:
        files[f"databases/{catalog}.yaml"] = {
            "database_name": connection_name(catalog),
            "sqlalchemy_uri": catalog_uri(endpoints, catalog),
            "uuid": str(uuid.uuid5(_NAMESPACE, f"database/{catalog}")),
            "version": IMPORT_VERSION,
            "expose_in_sqllab": True,
            "allow_run_async": False,
            "allow_ctas": False,
            "allow_cvas": False,
            "allow_dml": False,
            "extra": {},
        }
    for key, dataset in dashboard.datasets.items():
        files[f"datasets/{dataset.catalog}/{dashboard.slug}_{key}.yaml"] = {
            "table_name": dataset.table,
            "catalog": dataset.catalog,
            "schema": dataset.schema,
            "sql": dataset.sql,
            "uuid": dashboard.uuid("dataset", key),
            "database_uuid": str(uuid.uuid5(_NAMESPACE, f"database/{dataset.catalog}")),
            "version": IMPORT_VERSION,
            "columns": _columns(dashboard, key),
            "metrics": [],
        }
    for chart in dashboard.charts:
        files[f"charts/{dashboard.slug}_{_slugify(chart.title)}.yaml"] = {
            "slice_name": chart.title,
            "viz_type": _KINDS[chart.kind],
            "params": form_data(chart),
            "query_context": query_context(chart),
            "cache_timeout": None,
            "uuid": dashboard.uuid("chart", chart.title),
            "version": IMPORT_VERSION,
            "dataset_uuid": dashboard.uuid("dataset", chart.dataset),
        }
    metadata: dict[str, Any] = {"color_scheme": "supersetColors", "refresh_frequency": 0}
    files[f"dashboards/{dashboard.slug}.yaml"] = {
        "dashboard_title": dashboard.title,
        "slug": dashboard.slug,
        "uuid": dashboard.uuid("dashboard"),
        "version": IMPORT_VERSION,
        "published": True,
        "position": _layout(dashboard),
        "metadata": metadata,
    }
    metadata[SOURCE_KEY] = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return files


def bundle(endpoints: Endpoints, dashboard: Dashboard) -> bytes:
    """One dashboard's import bundle as ZIP bytes (Superset strips the one root folder)."""
    return _zipped(bundle_files(endpoints, dashboard))


def _zipped(files: dict[str, dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            info = zipfile.ZipInfo(f"wharf_dashboards/{path}", date_time=(2000, 1, 1, 0, 0, 0))
            archive.writestr(info, yaml.safe_dump(content, sort_keys=False, allow_unicode=True))
    return buffer.getvalue()


def bundles(endpoints: Endpoints, folder: Path = DASHBOARDS_DIR) -> list[Bundle]:
    """Every dashboard's bundle with the digest of its files, as the importer takes them."""
    found = []
    for board in dashboards(folder):
        files = bundle_files(endpoints, board)
        digest = files[f"dashboards/{board.slug}.yaml"]["metadata"][SOURCE_KEY]
        found.append(Bundle(slug=board.slug, digest=digest, zipped=_zipped(files), reads=board.reads))
    return found
