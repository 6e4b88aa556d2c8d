"""The dashboards under dashboards/ render to a complete Superset bundle, stable across renders,
over tables dbt builds; a malformed file is refused with a message naming what to fix."""

import json
import re
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml

from wharf_infra.contract.dashboards import (
    DASHBOARDS_DIR,
    DashboardError,
    bundle,
    bundle_files,
    dashboards,
)
from wharf_infra.contract.endpoints import native_endpoints
from wharf_infra.contract.superset_api import SOURCE_KEY
from wharf_infra.core.paths import DBT_PROJECT_DIR
from wharf_infra.native.settings import settings

ENDPOINTS = native_endpoints(settings().ports)


def _by_prefix(prefix: str) -> dict[str, dict[str, Any]]:
    """The files under `prefix` of every dashboard's bundle."""
    return {
        path: content
        for board in dashboards()
        for path, content in bundle_files(ENDPOINTS, board).items()
        if path.startswith(prefix)
    }


def test_every_reference_in_the_bundle_resolves() -> None:
    databases = {c["uuid"] for c in _by_prefix("databases/").values()}
    datasets = {c["uuid"]: c for c in _by_prefix("datasets/").values()}
    charts = {c["uuid"]: c for c in _by_prefix("charts/").values()}
    assert all(d["database_uuid"] in databases for d in datasets.values())
    assert all(c["dataset_uuid"] in datasets for c in charts.values())
    placed = [
        item["meta"]["uuid"]
        for board in _by_prefix("dashboards/").values()
        for item in board["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    ]
    assert sorted(placed) == sorted(charts), "every chart sits on exactly one dashboard"
    for chart in charts.values():
        used = {chart["params"].get("x_axis"), *chart["params"].get("all_columns", [])} - {None}
        declared = {c["column_name"] for c in datasets[chart["dataset_uuid"]]["columns"]}
        assert used <= declared, f"{chart['slice_name']}: columns not in its dataset: {used - declared}"
        assert json.loads(chart["query_context"])["queries"], chart["slice_name"]


def test_both_dashboards_the_platform_promises_are_there() -> None:
    titles = {d.title for d in dashboards()}
    assert {"Bioreactor batches", "Weather"} <= titles


def test_the_bundle_is_the_same_bytes_each_render_and_its_digest_follows_the_file(tmp_path: Path) -> None:
    (board,) = [b for b in dashboards() if b.slug == "weather"]
    first = bundle(ENDPOINTS, board)
    assert first == bundle(ENDPOINTS, board)
    names = zipfile.ZipFile(BytesIO(first)).namelist()
    assert all(name.startswith("wharf_dashboards/") for name in names)

    def digest(folder: Path) -> str:
        (edited,) = [b for b in dashboards(folder) if b.slug == "weather"]
        return str(bundle_files(ENDPOINTS, edited)["dashboards/weather.yaml"]["metadata"][SOURCE_KEY])

    spec = yaml.safe_load((DASHBOARDS_DIR / "weather.yaml").read_text())
    (tmp_path / "weather.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    unchanged = digest(tmp_path)
    assert unchanged == digest(DASHBOARDS_DIR)
    spec["charts"][0]["metrics"] = {"mean": "avg(temperature_max_c)"}
    (tmp_path / "weather.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert digest(tmp_path) != unchanged


def test_physical_datasets_are_tables_dbt_builds() -> None:
    manifest_file = DBT_PROJECT_DIR / "target" / "manifest.json"
    assert manifest_file.exists(), "run `make dbt-manifest` first (make test does)"
    nodes = json.loads(manifest_file.read_text())["nodes"].values()
    built = {
        f"{n['database']}.{n['schema']}.{n['alias'] or n['name']}"
        for n in nodes
        if n["resource_type"] == "model"
    }
    for dataset in _by_prefix("datasets/").values():
        if dataset["sql"] is None:
            name = f"{dataset['catalog']}.{dataset['schema']}.{dataset['table_name']}"
            assert name in built, f"{name} is not a dbt model"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["charts"][0].update(dataset="nowhere"), "dataset 'nowhere' is not one of"),
        (lambda d: d["charts"][0].update(kind="pie"), "needs a title and a kind of table, bar, line"),
        (lambda d: d["charts"][1].pop("columns"), "(table) needs columns"),
        (lambda d: d["datasets"].update(x={"table": "postgres.public.users"}), "reads catalog 'postgres'"),
        (lambda d: d["datasets"].update(x={"table": "users"}), "table must be <catalog>.<schema>.<table>"),
        (lambda d: d["charts"][0].update(width=13), "width must be 1..12"),
        (lambda d: d["datasets"].update(x={"sql": "select 1"}), "`reads` lists every table its query reads"),
        (
            lambda d: d["datasets"].update(x={"sql": "select 1", "reads": ["marts.analytics.dim_batch"]}),
            "`reads` lists every table its query reads, not ['marts.analytics.dim_batch']",
        ),
    ],
)
def test_a_malformed_dashboard_is_refused_naming_the_fix(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = yaml.safe_load((DASHBOARDS_DIR / "weather.yaml").read_text())
    edit(spec)
    (tmp_path / "weather.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(DashboardError, match="weather.yaml: .*" + re.escape(message)):
        dashboards(tmp_path)
