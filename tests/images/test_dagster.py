"""Dagster on wharf's images: every code location's image serves its repository over gRPC with the
command the Dagster chart runs, and the webserver image loads them all, as in the cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import ListRepositoriesResponse
from dagster._serdes import deserialize_value
from docker_box import Containers, docker, docker_ok, http_json, http_ok, private_network

from wharf_infra.core.registry import CodeLocation, load_registry

CODE_SERVER_ENV = {"WHARF_DATA_DIR": "/tmp/data", "DAGSTER_HOME": "/tmp/dagster"}


def start_code_server(box: Containers, image: str, location: CodeLocation) -> None:
    box.run(
        image,
        *("dagster", "api", "grpc", "-h", "0.0.0.0", "-p", str(location.port)),
        *("--module-name", location.module),
        name=location.name,
        user="10001:10001",
        env=CODE_SERVER_ENV,
        ports=(location.port,),
    )
    health = ("exec", location.name, "dagster", "api", "grpc-health-check", "-p", str(location.port))
    box.wait(location.name, lambda: docker_ok(*health))


@pytest.fixture(scope="module")
def code_servers(built: dict[str, str]) -> Iterator[Containers]:
    """Every location's code server, started once for the module."""
    with private_network() as box:
        for location in load_registry():
            start_code_server(box, built[location.name], location)
        yield box


@pytest.mark.parametrize("location", load_registry(), ids=lambda loc: loc.name)
def test_code_location_image_serves_its_repository(
    location: CodeLocation, built: dict[str, str], code_servers: Containers
) -> None:
    image = built[location.name]
    client = DagsterGrpcClient(port=code_servers.port(location.name, location.port), host="127.0.0.1")
    repositories = deserialize_value(client.list_repositories(), ListRepositoriesResponse)
    assert [s.repository_name for s in repositories.repository_symbols] == ["__repository__"]
    # Only this location's packages are installed, and it runs as the chart's user.
    others = {loc.package for loc in load_registry()} - {location.package}
    installed = docker(
        "run",
        "--rm",
        image,
        "python",
        "-c",
        "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))",
    )
    assert not others & set(installed.split()), f"{location.name} ships other locations"
    assert docker("run", "--rm", image, "id", "-u") == "10001"


def test_webserver_image_loads_every_location(
    built: dict[str, str], code_servers: Containers, tmp_path: Path
) -> None:
    locations = load_registry()
    containers = code_servers
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"grpc_server": {"host": loc.name, "port": loc.port, "location_name": loc.name}}
                    for loc in locations
                ]
            }
        )
    )
    workspace.chmod(0o755)
    containers.run(
        built["dagster"],
        "/bin/bash",
        "-c",
        "dagster-webserver -h 0.0.0.0 -p 3000 -w /dagster-workspace/workspace.yaml",
        name="webserver",
        user="10001:10001",
        volumes=(f"{workspace}:/dagster-workspace:ro",),
        ports=(3000,),
    )
    port = containers.port("webserver", 3000)
    containers.wait("webserver", lambda: http_ok(f"http://127.0.0.1:{port}/server_info"))
    query = '{"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"}'
    answer = http_json(
        f"http://127.0.0.1:{port}/graphql", data=query.encode(), headers={"Content-Type": "application/json"}
    )
    assert isinstance(answer, dict)
    entries = answer["data"]["workspaceOrError"]["locationEntries"]
    assert sorted((e["name"], e["loadStatus"]) for e in entries) == sorted(
        (loc.name, "LOADED") for loc in locations
    )
    daemon = docker("run", "--rm", "--user", "10001", built["dagster"], "dagster-daemon", "--version")
    webserver_dagster = docker("run", "--rm", built["dagster"], "dagster", "--version")
    location_dagster = docker("run", "--rm", built[locations[0].name], "dagster", "--version")
    assert webserver_dagster == location_dagster and "dagster-daemon" in daemon
