"""Superset on the native stack: the dashboards under dashboards/ imported, each chart's data the
rows the marts hold (each compared with a query written here), the import idempotent, and
Superset's Trino user unable to write."""

import json
import math
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from conftest import SPIKED

from wharf_infra.contract.dashboards import DASHBOARDS_DIR, bundles, dashboards
from wharf_infra.contract.superset import SUPERSET_TRINO_USER
from wharf_infra.contract.superset_api import (
    LINEAGE_NAMESPACE,
    SupersetClient,
    import_dashboards,
    send_lineage,
)
from wharf_infra.native.settings import settings
from wharf_infra.native.superset import Superset

# Each chart's rows, as the marts answer them: one query per chart title, its columns in the
# order of the chart's own (axis, groups, metrics; a table's columns as listed).
LATEST_BATCH = "(select max_by(batch_id, started_at) from marts.analytics.dim_batch)"


def _limits_series(channel: str) -> str:
    return f"""
        select date_trunc('minute', r.reading_at), max(r.{channel}), min(l.low), max(l.high)
        from lake.staging.stg_bioreactor r
        join lake.raw.bioreactor_control_limits l on l.channel = '{channel}'
        where r.batch_id = {LATEST_BATCH} group by 1"""


EXPECTED = {
    "Batches": """select batch_id, started_at, ended_at, duration_minutes, readings, longest_silence_minutes
        from marts.analytics.mart_bioreactor_overview""",
    "Channel statistics per batch": """select batch_id, temperature_mean_c, temperature_min_c,
        temperature_max_c, ph_mean, ph_min, ph_max, dissolved_oxygen_mean_pct, dissolved_oxygen_min_pct,
        agitation_mean_rpm, agitation_max_rpm from marts.analytics.fact_bioreactor_batch_stats""",
    "Excursions per batch": """select batch_id, temperature_excursions, ph_excursions,
        dissolved_oxygen_excursions, agitation_excursions from marts.analytics.fact_bioreactor_batch_stats""",
    "Latest batch, temperature against its control limits": _limits_series("temperature_c"),
    "Latest batch, pH against its control limits": _limits_series("ph"),
    "Daily mean temperature per city": """select obs_date, city, temperature_mean_c
        from marts.analytics.daily_weather_summary""",
    "Daily summary": """select city, obs_date, hours_observed, temperature_mean_c, temperature_min_c,
        temperature_max_c, precipitation_total_mm, wind_speed_max_kmh
        from marts.analytics.daily_weather_summary""",
    "Monthly precipitation per city": """select date_trunc('month', obs_date), city,
        sum(precipitation_total_mm) from marts.analytics.daily_weather_summary group by 1, 2""",
    "Monthly temperature per city": """select date_trunc('month', obs_date), city, avg(temperature_mean_c),
        min(temperature_min_c), max(temperature_max_c)
        from marts.analytics.daily_weather_summary group by 1, 2""",
}


def _normal(value: Any) -> Any:
    """One form for both sides: times as epoch milliseconds (Superset's JSON), floats rounded."""
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return _normal(datetime(value.year, value.month, value.day))
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def _rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


@pytest.fixture(scope="module")
def superset(nightly_build: dg.ExecuteInProcessResult) -> SupersetClient:
    """Superset over marts the nightly build made from the tier's weather and batches, with the
    dashboards in git (a stack reused from an earlier session may hold older ones)."""
    assert nightly_build.success
    client = Superset().client()
    dashboards = bundles(settings().endpoints)
    import_dashboards(client, dashboards)
    send_lineage(settings().url("marquez"), dashboards, settings().endpoints.trino_lineage_namespace)
    return client


def _charts(client: SupersetClient) -> dict[str, int]:
    found = client.get("/api/v1/chart/", q="(columns:!(id,slice_name),page_size:100)")["result"]
    return {chart["slice_name"]: chart["id"] for chart in found}


def test_every_chart_shows_the_rows_the_marts_hold(
    superset: SupersetClient, resources: dict[str, Any]
) -> None:
    charts = _charts(superset)
    assert set(EXPECTED) <= set(charts), f"charts not imported: {set(EXPECTED) - set(charts)}"
    for title, sql in EXPECTED.items():
        (result,) = superset.get(f"/api/v1/chart/{charts[title]}/data/", format="json", type="full")["result"]
        shown = [tuple(row[column] for column in result["colnames"]) for row in result["data"]]
        expected = resources["trino"].query(sql)
        assert expected, f"{title}: the marts hold no rows for it; the tier's data did not arrive"
        assert _rows(shown) == _rows(expected), title


def test_the_spike_batch_shows_its_one_temperature_excursion(
    superset: SupersetClient, resources: dict[str, Any]
) -> None:
    chart = _charts(superset)["Excursions per batch"]
    (result,) = superset.get(f"/api/v1/chart/{chart}/data/", format="json", type="full")["result"]
    shown = {row["batch_id"]: row["temperature"] for row in result["data"]}
    (marts,) = resources["trino"].query(
        "select temperature_excursions from marts.analytics.fact_bioreactor_batch_stats where batch_id = ?",
        (SPIKED,),
    )
    assert shown[SPIKED] == marts[0] == 1


def _state(client: SupersetClient) -> dict[str, list[tuple[Any, ...]]]:
    """Every dashboard, chart, dataset and database: id, uuid and last change (databases list no
    `changed_on_utc`, only `changed_on`)."""
    state = {}
    for resource in ("dashboard", "chart", "dataset", "database"):
        changed = "changed_on" if resource == "database" else "changed_on_utc"
        found = client.get(f"/api/v1/{resource}/", q=f"(columns:!(id,uuid,{changed}),page_size:100)")[
            "result"
        ]
        state[resource] = sorted((item["id"], item["uuid"], item[changed]) for item in found)
    return state


@pytest.fixture
def edited_dashboards(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS_DIR, folder)
    yield folder
    import_dashboards(Superset().client(), bundles(settings().endpoints))  # back to the files in git


def test_a_reimport_changes_nothing_and_an_edited_file_updates_in_place(
    superset: SupersetClient, edited_dashboards: Path
) -> None:
    import_dashboards(superset, bundles(settings().endpoints))
    before = _state(superset)
    assert import_dashboards(superset, bundles(settings().endpoints)) == [], (
        "unchanged files were imported again"
    )
    assert _state(superset) == before, "a re-import of unchanged files changed Superset's objects"

    weather = edited_dashboards / "weather.yaml"
    spec = yaml.safe_load(weather.read_text())
    edited, renamed = spec["charts"][0], spec["charts"][1]
    edited["metrics"] = {"mean daily high (°C)": "avg(temperature_max_c)"}
    renamed["title"] = f"{renamed['title']} (renamed)"
    weather.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    charts_before = _charts(superset)
    assert import_dashboards(superset, bundles(settings().endpoints, edited_dashboards)) == ["weather"]

    charts = _charts(superset)
    assert charts[edited["title"]] == charts_before[edited["title"]], "an edited chart is updated in place"
    params = json.loads(superset.get(f"/api/v1/chart/{charts[edited['title']]}")["result"]["params"])
    assert [m["label"] for m in params["metrics"]] == ["mean daily high (°C)"]
    assert renamed["title"] in charts
    assert renamed["title"].removesuffix(" (renamed)") not in charts, (
        "a renamed chart left its old self behind"
    )
    after = _state(superset)
    others = {
        board.uuid("chart", c.title)
        for board in dashboards()
        if board.slug != "weather"
        for c in board.charts
    }
    untouched = [[i for i in state["chart"] if i[1] in others] for state in (before, after)]
    assert untouched[0] == untouched[1], "editing one dashboard touched another's charts"


def test_each_dashboard_is_in_the_lineage_graph_reading_its_marts(superset: SupersetClient) -> None:
    import requests

    namespace = settings().endpoints.trino_lineage_namespace
    for board in dashboards():
        job = f"dashboards.{board.slug}"
        answer = requests.get(
            f"{settings().url('marquez')}/api/v1/namespaces/{LINEAGE_NAMESPACE}/jobs/{job}", timeout=30
        )
        assert answer.ok, f"Marquez has no job {job}: {answer.status_code}"
        inputs = {(i["namespace"], i["name"]) for i in answer.json()["inputs"]}
        assert inputs == {(namespace, table) for table in board.reads}, job
    overview = next(b for b in dashboards() if b.slug == "bioreactor-batches")
    assert "marts.analytics.mart_bioreactor_overview" in overview.reads


def test_supersets_trino_user_reads_the_marts_and_writes_nothing(resources: dict[str, Any]) -> None:
    import trino

    as_superset = resources["trino"].model_copy(update={"user": SUPERSET_TRINO_USER})
    assert as_superset.query("select count(*) from marts.analytics.daily_weather_summary")[0][0] > 0
    for statement in (
        "create table marts.analytics.superset_probe (x integer)",
        "delete from marts.analytics.daily_weather_summary",
        "create table lake.raw.superset_probe (x integer)",
        "select count(*) from system.runtime.nodes",
    ):
        with pytest.raises(trino.exceptions.TrinoUserError, match="Access Denied"):
            as_superset.query(statement)
