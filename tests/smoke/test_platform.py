"""The smoke suite: one set of checks for any running wharf (the native stack, or kind via the gateway)."""

import time
from typing import Any

import pytest
from conftest import CITY, DAY, PARTITION, GraphQL
from target import Target

from wharf_infra.core.registry import load_registry
from wharf_shared.environment import LINEAGE_JOB_NAMESPACE
from wharf_shared.trino import TrinoResource

ASSET_KEY = {"path": ["lake", "raw", "weather_observations"]}
TABLE = ".".join(ASSET_KEY["path"])  # its lineage job: one per table
MARQUEZ_WAIT_S = 180

WORKSPACE = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSET = """query($key: AssetKeyInput!, $partitions: [String!]) { assetOrError(assetKey: $key) { __typename
  ... on Asset { assetMaterializations(limit: 1, partitions: $partitions) { runId } } } }"""
CHECKS = """query($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 1) { runId status } }"""


def test_every_code_location_is_loaded(graphql: GraphQL) -> None:
    data = graphql(WORKSPACE)["workspaceOrError"]
    assert data["__typename"] == "Workspace", data
    entries = {e["name"]: e["locationOrLoadError"] for e in data["locationEntries"]}
    assert set(entries) == {loc.name for loc in load_registry()}
    errors = {name: e for name, e in entries.items() if e["__typename"] != "RepositoryLocation"}
    assert errors == {}, f"locations with load errors: {errors}"


def test_a_job_launched_through_graphql_lands_its_table_in_trino(
    finished_run: str, trino: TrinoResource
) -> None:
    rows = trino.query(
        "select count(*) from lake.raw.weather_observations "
        f"where city = '{CITY}' and obs_date = date '{DAY}'"
    )
    assert rows == [(24,)], f"expected the run's 24 hourly rows in Trino, found {rows}"


def test_its_materialization_and_checks_are_recorded(finished_run: str, graphql: GraphQL) -> None:
    asset: dict[str, Any] = graphql(ASSET, key=ASSET_KEY, partitions=[PARTITION])["assetOrError"]
    assert asset["__typename"] == "Asset", asset
    assert [m["runId"] for m in asset["assetMaterializations"]] == [finished_run]
    executions = graphql(CHECKS, key=ASSET_KEY, check="no_null_timestamps")["assetCheckExecutions"]
    assert executions and executions[0]["runId"] == finished_run
    assert executions[0]["status"] == "SUCCEEDED"


def test_marquez_has_the_run_and_its_datasets(finished_run: str, target: Target) -> None:
    if not target.marquez_url:
        pytest.skip("this target names no Marquez")
    import requests

    def get(path: str) -> dict[str, Any]:
        job = f"namespaces/{LINEAGE_JOB_NAMESPACE}/jobs/{TABLE}"
        url = f"{target.marquez_url}/api/v1/{job}{path}"
        response = requests.get(url, timeout=30, auth=target.auth, verify=target.verify_tls)
        assert response.status_code in (200, 404), (
            f"{url} answered {response.status_code}: {response.text[:300]}"
        )
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return body

    # The daemon's lineage sensors tick every 10 s or more: give the COMPLETE event time to arrive.
    # Its run names the table it wrote (the job's own `outputs` follow its latest run, which may be
    # another run's START, naming none).
    deadline = time.monotonic() + MARQUEZ_WAIT_S

    def completed() -> dict[str, Any] | None:
        return next(
            (
                run
                for run in get("/runs").get("runs", [])
                if run["facets"].get("dagster_run", {}).get("runId") == finished_run
                and run["state"] == "COMPLETED"
            ),
            None,
        )

    while (run := completed()) is None:
        assert time.monotonic() < deadline, f"Marquez has no completed run {finished_run} of the job"
        time.sleep(5)
    outputs = sorted({version["datasetVersionId"]["name"] for version in run["outputDatasetVersions"]})
    assert outputs == [TABLE], f"the run's outputs in Marquez are {outputs}"
