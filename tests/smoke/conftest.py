"""Smoke fixtures: the target, a GraphQL client for its Dagster, and a Trino resource for it."""

import os
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
import requests
from target import Target, from_file, native_stack

from wharf_infra.local.resolution import hostnames_resolved_to
from wharf_shared.trino import TrinoResource

TIMEOUT_S = 30
RUN_TIMEOUT_S = 600
CITY, DAY = "london", "2025-01-15"
JOB = "weather_observations_job"  # the weather location's job the suite runs
PARTITION = f"{CITY}|{DAY}"


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    path = os.environ.get("WHARF_SMOKE_TARGET")
    described = from_file(Path(path)) if path else native_stack()
    with hostnames_resolved_to(*described.resolve) if described.resolve else nullcontext():
        yield described


@pytest.fixture(scope="session")
def data_plane(target: Target) -> Iterator[Target]:
    """The target, its services answering: the native stack is started when it is the data plane
    and does not run (and stopped after, then only), so checks of a cluster alone never wait for it."""
    if not target.native_data_plane:
        yield target
        return
    from wharf_infra.native import stack as native_stack

    started_here = native_stack.ensure_up()
    try:
        yield target
    finally:
        if started_here:
            native_stack.down()


class GraphQL:
    def __init__(self, target: Target) -> None:
        self.url = f"{target.dagster_url}/graphql"
        self.session = requests.Session()
        self.verify = target.verify_tls  # per request: REQUESTS_CA_BUNDLE overrides a session's
        if target.auth:
            self.session.auth = target.auth

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.session.post(
            self.url, json={"query": query, "variables": variables}, timeout=TIMEOUT_S, verify=self.verify
        )
        assert response.status_code == 200, (
            f"{self.url} answered {response.status_code}: {response.text[:300]}"
        )
        body = response.json()
        assert "errors" not in body, f"GraphQL errors from {self.url}: {body['errors']}"
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture(scope="session")
def graphql(data_plane: Target) -> GraphQL:
    return GraphQL(data_plane)


@pytest.fixture(scope="session")
def trino(data_plane: Target) -> TrinoResource:
    coordinator, auth, verify = data_plane.trino, data_plane.auth, data_plane.verify_tls
    return TrinoResource(
        host=coordinator["host"],
        port=int(coordinator["port"]),
        http_scheme=coordinator.get("scheme", "http"),
        user=coordinator.get("user", "smoke"),
        password=auth[1] if auth and coordinator.get("scheme") == "https" else None,
        ca_bundle=verify if isinstance(verify, str) else None,
    )


LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message } } }"""
RUN = """query($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }"""


def _launch(graphql: GraphQL) -> str:
    tags = [
        {"key": "dagster/partition", "value": PARTITION},
        {"key": "dagster/partition/city", "value": CITY},
        {"key": "dagster/partition/date", "value": DAY},
    ]
    params = {
        "selector": {
            "repositoryLocationName": "weather",
            "repositoryName": "__repository__",
            "jobName": JOB,
        },
        "executionMetadata": {"tags": tags},
    }
    result = graphql(LAUNCH, params=params)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", f"launchRun refused: {result}"
    run_id: str = result["run"]["runId"]
    return run_id


@pytest.fixture(scope="session")
def finished_run(graphql: GraphQL) -> str:
    """A small job launched through GraphQL and followed to its end."""
    run_id = _launch(graphql)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = "?"
    while time.monotonic() < deadline:
        status = graphql(RUN, runId=run_id)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(3)
    assert status == "SUCCESS", f"run {run_id} ended {status} (or did not end within {RUN_TIMEOUT_S} s)"
    return run_id
