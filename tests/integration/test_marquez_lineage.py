"""Lineage on the native stack: Dagster's run events and Trino's query events meet in Marquez.

The Dagster events are sent by the lineage sensors' own code (`emit_run_event`) for runs of this
tier; the stack's daemon sends the same for its runs (the smoke suite checks one). Trino's events
come from its OpenLineage listener as dbt's queries run.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import dagster as dg
import pytest
import requests
from conftest import eventually

from wharf_infra.native.services import Marquez
from wharf_infra.native.settings import settings
from wharf_shared.environment import LINEAGE_JOB_NAMESPACE
from wharf_shared.lineage import LineageResource, emit_run_event

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


def test_a_dagster_run_is_a_job_run_with_the_raw_table_as_output(
    backfill: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _emit(backfill, instance, resources["lineage"], "START", "COMPLETE")
    job = f"/namespaces/{LINEAGE_JOB_NAMESPACE}/jobs/{quote(backfill.dagster_run.job_name)}"
    run = _eventually(
        lambda: next((r for r in _marquez(f"{job}/runs")["runs"] if r["id"] == backfill.run_id), None)
    )
    assert run["state"] == "COMPLETED"
    assert run["facets"]["dagster_run"]["runId"] == backfill.run_id
    assert RAW in [d["datasetVersionId"]["name"] for d in run["outputDatasetVersions"]]


def test_a_failed_run_is_a_failed_job_run(instance: dg.DagsterInstance, resources: dict[str, Any]) -> None:
    @dg.asset(key=["lake", "raw", "lineage_probe"])
    def lineage_probe() -> None:
        raise RuntimeError("the source is down")

    failed = dg.materialize([lineage_probe], instance=instance, raise_on_error=False)
    assert not failed.success
    run = instance.get_run_by_id(failed.run_id)
    assert run is not None
    graph = dg.Definitions(assets=[lineage_probe]).get_repository_def().asset_graph
    assert emit_run_event(instance, run, graph, resources["lineage"], "FAIL")
    job = f"/namespaces/{LINEAGE_JOB_NAMESPACE}/jobs/{quote(run.job_name)}"
    found = _eventually(
        lambda: next((r for r in _marquez(f"{job}/runs")["runs"] if r["id"] == failed.run_id), None)
    )
    assert found["state"] == "FAILED"


def test_the_mart_traces_back_to_the_raw_table_through_trino_queries(
    dbt_build: dg.ExecuteInProcessResult, dataset_namespace: str
) -> None:
    assert dbt_build.success
    node = f"dataset:{dataset_namespace}:{MART}"

    def graph() -> dict[str, Any] | None:
        nodes = {n["id"]: n for n in _marquez(f"/lineage?nodeId={quote(node)}&depth=20")["graph"]}
        return nodes if f"dataset:{dataset_namespace}:{RAW}" in nodes else None

    nodes = _eventually(graph)
    writers = [e["origin"] for e in nodes[node]["inEdges"]]
    assert writers and all(w.startswith("job:") for w in writers), writers  # a Trino query wrote it
    staging = f"dataset:{dataset_namespace}:{STAGING}"
    assert staging in nodes, f"the path skips staging: {sorted(nodes)}"
    assert any(e["origin"] == staging for w in writers for e in nodes[w]["inEdges"]), (
        "the mart is read from staging"
    )


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
