"""Lineage on the native stack, in Marquez: one job per table, the mart's path back to the raw
table with its columns' sources, and a graph whose shape runs do not change.

The events are sent by the lineage sensors' own code (`emit_run_event`) for runs of this tier; the
stack's daemon sends the same for its runs (the smoke suite checks one).
"""

import itertools
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import dagster as dg
import pytest
import requests
from conftest import build_weather_models, eventually

from wharf_infra.native.services import Marquez
from wharf_infra.native.settings import settings
from wharf_shared.environment import LINEAGE_JOB_NAMESPACE
from wharf_shared.lineage import (
    DagsterRunRef,
    LineageResource,
    emit_run_event,
    materialized_columns,
    planned_assets,
    table_steps,
)

WAIT_S = 120
RAW = "lake.raw.weather_observations"
STAGING = "lake.staging.stg_weather"
MART = "marts.analytics.daily_weather_summary"


def _marquez(path: str) -> Any:
    response = requests.get(f"{settings().url('marquez')}/api/v1{path}", timeout=30)
    response.raise_for_status()
    return response.json()


def _eventually(probe: Callable[[], Any]) -> Any:
    """Marquez takes events as they come."""
    return eventually("Marquez shows it", probe, WAIT_S, every_s=3)


def _emit(
    result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, lineage: LineageResource, *states: str
) -> None:
    from weather.definitions import defs

    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    graph = defs.get_repository_def().asset_graph
    for state in states:
        assert emit_run_event(instance, run, graph, lineage, state), state


@pytest.fixture(scope="module")
def dataset_namespace(resources: dict[str, Any]) -> str:
    return str(resources["lineage"].dataset_namespace)


def _job_runs(table: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = _marquez(f"/namespaces/{LINEAGE_JOB_NAMESPACE}/jobs/{quote(table)}/runs")[
        "runs"
    ]
    return runs


def _run_of(table: str, dagster_run_id: str) -> dict[str, Any]:
    """The OpenLineage run of `table`'s job in Dagster run `dagster_run_id`, once Marquez has it."""
    found: dict[str, Any] = _eventually(
        lambda: next(
            (
                r
                for r in _job_runs(table)
                if r["facets"].get("dagster_run", {}).get("runId") == dagster_run_id
            ),
            None,
        )
    )
    return found


def test_a_dagster_run_is_a_job_run_per_table(
    backfill: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _emit(backfill, instance, resources["lineage"], "START", "COMPLETE")
    run = _run_of(RAW, backfill.run_id)
    assert run["state"] == "COMPLETED"
    assert {d["datasetVersionId"]["name"] for d in run["outputDatasetVersions"]} == {RAW}  # one per event


def test_a_failed_run_is_a_failed_job_run_and_leaves_no_trace_once_deleted(
    instance: dg.DagsterInstance, resources: dict[str, Any], dataset_namespace: str
) -> None:
    @dg.asset(key=["lake", "raw", "lineage_probe"])
    def lineage_probe() -> None:
        raise RuntimeError("the source is down")

    failed = dg.materialize([lineage_probe], instance=instance, raise_on_error=False)
    assert not failed.success
    run = instance.get_run_by_id(failed.run_id)
    assert run is not None
    graph = dg.Definitions(assets=[lineage_probe]).get_repository_def().asset_graph
    assert emit_run_event(instance, run, graph, resources["lineage"], "FAIL")
    probe = "lake.raw.lineage_probe"
    assert _run_of(probe, failed.run_id)["state"] == "FAILED"
    base = f"{settings().url('marquez')}/api/v1/namespaces"
    for path in (
        f"{LINEAGE_JOB_NAMESPACE}/jobs/{probe}",
        f"{quote(dataset_namespace, safe='')}/datasets/{probe}",
    ):
        requests.delete(f"{base}/{path}", timeout=30).raise_for_status()
    assert not [r for r in _marquez(f"/search?q={probe}")["results"] if r["name"] == probe]


def _emit_models(
    result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, lineage: LineageResource
) -> None:
    from analytics.definitions import defs

    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    graph = defs.get_repository_def().asset_graph
    for state in ("START", "COMPLETE"):
        assert emit_run_event(instance, run, graph, lineage, state), state


def _upstream(dataset_namespace: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The mart's upstream graph in Marquez: its nodes and edges, followed from the mart inwards."""
    start = f"dataset:{dataset_namespace}:{MART}"
    nodes = {n["id"]: n for n in _marquez(f"/lineage?nodeId={quote(start)}&depth=20")["graph"]}
    seen, edges, todo = {start}, set(), [start]
    while todo:
        for edge in nodes[todo.pop()]["inEdges"]:
            edges.add((edge["origin"], edge["destination"]))
            if edge["origin"] not in seen:
                seen.add(edge["origin"])
                todo.append(edge["origin"])
    return seen, edges


def _column_sources(dataset_namespace: str, table: str, column: str) -> set[str]:
    field = f"datasetField:{dataset_namespace}:{table}:{column}"
    graph = _marquez(f"/column-lineage?nodeId={quote(field)}&depth=20&withDownstream=false")["graph"]
    return {node["id"] for node in graph}


def test_the_mart_traces_back_to_the_raw_table_table_by_table_and_column_by_column(
    backfill: dg.ExecuteInProcessResult,
    dbt_build: dg.ExecuteInProcessResult,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    dataset_namespace: str,
) -> None:
    """Each table's event after its inputs' producers' (the raw table's from its backfill), and the
    column chain still whole once other runs of the same tables have started or failed since."""
    assert dbt_build.success
    _emit(backfill, instance, resources["lineage"], "START", "COMPLETE")
    _emit_models(dbt_build, instance, resources["lineage"])
    job = f"job:{LINEAGE_JOB_NAMESPACE}"
    path = [
        f"dataset:{dataset_namespace}:{RAW}",
        f"{job}:{STAGING}",
        f"dataset:{dataset_namespace}:{STAGING}",
        f"{job}:{MART}",
        f"dataset:{dataset_namespace}:{MART}",
    ]
    _eventually(lambda: set(itertools.pairwise(path)) <= _upstream(dataset_namespace)[1])

    chain = {f"datasetField:{dataset_namespace}:{table}:temperature_c" for table in (STAGING, RAW)}
    assert chain <= _column_sources(dataset_namespace, MART, "temperature_max_c")

    # Other runs of the same tables since, as the daemon's: one built them again, one started and failed.
    from analytics.definitions import defs

    run = instance.get_run_by_id(dbt_build.run_id)
    assert run is not None
    graph = defs.resolve_asset_graph()
    steps = table_steps(planned_assets(instance, run), graph, materialized_columns(instance, run))
    ordered = [steps[key] for key in graph.toposorted_asset_keys if key in steps]
    for states in (("START", "COMPLETE"), ("START", "FAIL")):
        other = DagsterRunRef(str(uuid.uuid4()), "bioreactor_models_job", "analytics")
        for state in states:
            assert all([resources["lineage"].emit(step, state, other) for step in ordered])
    assert chain <= _column_sources(dataset_namespace, MART, "temperature_max_c")


def test_the_graph_has_the_same_shape_after_another_run(
    dbt_build: dg.ExecuteInProcessResult,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    dataset_namespace: str,
) -> None:
    """One node per table and per job that builds it: no job per run or per query, no dbt
    temporary relation; a second build adds nothing."""
    _emit_models(dbt_build, instance, resources["lineage"])
    _run_of(MART, dbt_build.run_id)  # Marquez has the first build
    nodes, edges = _upstream(dataset_namespace)
    assert not [
        n
        for n in nodes
        if "__dbt_tmp" in n or not n.startswith(("dataset:", f"job:{LINEAGE_JOB_NAMESPACE}:"))
    ]
    rebuilt = build_weather_models(instance, resources)
    assert rebuilt.success
    _emit_models(rebuilt, instance, resources["lineage"])
    _run_of(MART, rebuilt.run_id)  # Marquez has the second run
    assert _upstream(dataset_namespace) == (nodes, edges)


def test_a_run_goes_on_when_marquez_is_down(instance: dg.DagsterInstance, resources: dict[str, Any]) -> None:
    from weather.assets import weather_observations
    from weather.definitions import defs
    from weather.source import WeatherSource

    marquez = Marquez()
    marquez.down()
    try:
        assert not marquez.healthy()
        result = dg.materialize(
            [weather_observations],
            instance=instance,
            partition_key="berlin|2025-04-02",
            resources={**resources, "weather_source": WeatherSource(kind="synthetic")},
        )
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        graph = defs.get_repository_def().asset_graph
        assert (
            emit_run_event(instance, run, graph, resources["lineage"], "COMPLETE") is False
        )  # dropped, logged
    finally:
        marquez.up()
    assert marquez.healthy()
