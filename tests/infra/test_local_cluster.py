"""`make cluster` / `make destroy` as far as a machine without a Docker engine can take them: the plan
they print, the prerequisite errors they stop with, and the pieces they hand over."""

import http.server
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests
import yaml

from wharf_infra.core.paths import INFRA_DIR, REPO_ROOT, VERSIONS_FILE
from wharf_infra.local.handoff import simulated_smoke_target, smoke_target
from wharf_infra.local.readiness import pod_readiness, undeployed_releases
from wharf_infra.local.resolution import hostnames_resolved_to
from wharf_infra.local.state import ClusterState, orphaned_pulumi_plugins

STACK_FILES = [INFRA_DIR / program / "Pulumi.local.yaml" for program in ("cluster", "platform")]
KIND_NAME = yaml.safe_load(STACK_FILES[0].read_text())["config"]["wharf-cluster:cluster"]["name"]
MINIMUMS = tomllib.loads(VERSIONS_FILE.read_text())["tools"]


def _cli(*args: str, cache: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WHARF_CACHE": str(cache)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "wharf_infra.local", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _position(text: str, needle: str) -> int:
    assert needle in text, f"the plan does not contain {needle!r}:\n{text}"
    return text.index(needle)


def test_the_cluster_plan_lists_every_step_in_order_and_changes_nothing(tmp_path: Path) -> None:
    before = [f.read_bytes() for f in STACK_FILES]
    result = _cli("up", "--plan", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    state = tmp_path / "kind"
    order = [
        "Build what is missing of wharf's tools from the Go module proxy",
        "Start the Docker engine if none answers",
        "Check the prerequisites: docker >= ",
        f"Prepare the local Pulumi backend {state / 'pulumi'}",
        "-m wharf_infra.build.kind_node --source auto --registry wharf.local",
        f"Write {state / 'cluster' / 'Pulumi.local.yaml'}: the `local` stack config",
        "Create the cluster stack `local` in that backend (once)",
        "cd infra/cluster && pulumi up --yes --skip-preview --parallel 32 --stack local --config-file "
        f"{state / 'cluster' / 'Pulumi.local.yaml'}",
        f"kind export kubeconfig --name {KIND_NAME} --kubeconfig {state / 'kubeconfig'}",
        f"-m wharf_infra.build.images --registry wharf.local --kind-cluster {KIND_NAME}",
        f"Write {state / 'platform' / 'Pulumi.local.yaml'}: the `local` stack config with chartsDir",
        "Create the platform stack `local` in that backend (once)",
        "cd infra/platform && pulumi up --yes --skip-preview --parallel 32 --stack local --config-file "
        f"{state / 'platform' / 'Pulumi.local.yaml'}",
        "Wait for every chart release, every pod, the local CA and the gateway",
        f"Write the smoke target {state / 'smoke-target.yaml'}",
    ]
    positions = [_position(plan, step) for step in order]
    assert positions == sorted(positions), plan
    assert f"PULUMI_BACKEND_URL=file://{state / 'pulumi'}" in plan
    assert f"PULUMI_CONFIG_PASSPHRASE_FILE={state / 'passphrase'}" in plan
    for tool, minimum in MINIMUMS.items():
        assert f"{tool} >= {minimum}" in plan
    assert list(tmp_path.iterdir()) == [], "a plan must not create state"
    assert [f.read_bytes() for f in STACK_FILES] == before


def test_locks_of_ended_pulumi_runs_are_released_and_live_or_foreign_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `make cluster` stopped with Ctrl-C leaves its stack locked; the next run releases it."""
    monkeypatch.setenv("WHARF_CACHE", str(tmp_path))
    state = ClusterState.default("kind")
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    holders = {
        "ended": {"pid": int(ended.stdout), "hostname": socket.gethostname()},
        "live": {"pid": os.getpid(), "hostname": socket.gethostname()},
        "foreign": {"pid": int(ended.stdout), "hostname": "another-machine"},
    }
    locks = {}
    for name, holder in holders.items():
        folder = state.backend / ".pulumi" / "locks" / "organization" / f"wharf-{name}" / "local"
        folder.mkdir(parents=True)
        locks[name] = folder / "8b3f.json"
        locks[name].write_text(
            json.dumps({**holder, "username": "root", "timestamp": "2026-12-07T15:30:25Z"})
        )
        (folder / "8b3f.json.attrs").write_text("{}")
    # A provider plugin its engine left: adopted by init once the shell that started it has exited.
    plugin = "pulumi-resource-wharf-orphan"
    subprocess.run(["sh", "-c", f"(exec -a {plugin} sleep 300 &)"], check=True)
    state.prepare()
    assert {name: lock.exists() for name, lock in locks.items()} == {
        "ended": False,
        "live": True,
        "foreign": True,
    }
    assert not (locks["ended"].parent / "8b3f.json.attrs").exists()
    time.sleep(1)
    assert not [command for _, command in orphaned_pulumi_plugins() if plugin in command]


def test_the_destroy_plan_removes_both_stacks_the_cluster_and_the_state(tmp_path: Path) -> None:
    result = _cli("down", "--plan", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    order = [
        "cd infra/cluster && pulumi destroy --yes --skip-preview --stack local --config-file "
        f"{tmp_path / 'kind' / 'cluster' / 'Pulumi.local.yaml'}",
        "cd infra/platform && pulumi stack rm --yes --force --preserve-config local",
        "cd infra/cluster && pulumi stack rm --yes --preserve-config local",
        f"kind delete cluster --name {KIND_NAME}",
        f"Remove {tmp_path / 'kind'} (state, passphrase",
    ]
    positions = [_position(plan, step) for step in order]
    assert positions == sorted(positions), plan
    assert plan.count("(only if the `local` stack exists)") == 3
    assert list(tmp_path.iterdir()) == []


def test_kinds_former_state_folder_is_moved_and_nothing_is_lost(tmp_path: Path) -> None:
    former = tmp_path / "cluster"
    former.mkdir()
    (former / "passphrase").write_text("kept")
    result = _cli("down", "--target", "kind", "--plan", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"moved kind's state from {former} to {tmp_path / 'kind'}" in result.stderr
    assert (tmp_path / "kind" / "passphrase").read_text() == "kept" and not former.exists()


def test_the_smoke_target_and_destroy_follow_the_cluster_that_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwok_dir = tmp_path / "elsewhere"  # the kwok control plane's folder, wherever WHARF_KWOK_DIR puts it
    monkeypatch.setenv("WHARF_KWOK_DIR", str(kwok_dir))
    assert _cli("smoke-target", cache=tmp_path).stdout.strip() == ""
    assert "make destroy would run" in _cli("down", "--plan", cache=tmp_path).stdout
    kwok_dir.mkdir()
    (kwok_dir / "smoke-target.yaml").write_text("simulated: true\n")
    assert _cli("smoke-target", cache=tmp_path).stdout.strip() == str(kwok_dir / "smoke-target.yaml")
    assert "make destroy TARGET=kwok would run" in _cli("down", "--plan", cache=tmp_path).stdout


def _client_version(argv: list[str]) -> tuple[int, ...]:
    shown = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    git_version = json.loads(shown)["clientVersion"]["gitVersion"]  # e.g. v1.32.4-dispatcher
    return tuple(int(p) for p in git_version.lstrip("v").split("-")[0].split("."))


def test_make_cluster_names_each_missing_stopped_or_old_tool_and_creates_nothing(tmp_path: Path) -> None:
    """Only docker and kubectl (if this machine has them) are on PATH: the rest is missing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    present = {}
    for tool in ("docker", "kubectl"):
        if found := shutil.which(tool):
            (bin_dir / tool).symlink_to(found)
            present[tool] = found
    cache = tmp_path / "cache"
    result = _cli("up", cache=cache, path=str(bin_dir))
    assert result.returncode != 0
    errors = result.stderr
    assert "make cluster cannot start; fix these first:" in errors
    for tool in ("kind", "helm", "pulumi"):
        assert f"{tool} not found on PATH" in errors
        assert f"Install {MINIMUMS[tool]} or newer" in errors
    engine_runs = (
        "docker" in present and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )
    if "docker" not in present:
        assert "docker not found on PATH" in errors
    elif not engine_runs:
        assert "the Docker engine is not running" in errors
    if "kubectl" in present:
        version = _client_version(["kubectl", "version", "--client", "-o", "json"])
        minimum = tuple(int(p) for p in MINIMUMS["kubectl"].split("."))
        too_old = f"kubectl {'.'.join(map(str, version))} is older than {MINIMUMS['kubectl']}"
        assert (too_old in errors) == (version < minimum), errors
    assert not cache.exists(), "nothing may be created before the prerequisites pass"


@pytest.mark.parametrize(
    ("tool", "output", "version"),
    [
        ("kind", "kind v0.30.0 go1.26.8 linux/amd64\n", "0.30.0"),
        ("helm", "v3.19.0+g3d8990f\n", "3.19.0"),
        ("pulumi", "v3.272.0\n", "3.272.0"),
        ("docker", "28.2.2\n", "28.2.2"),
        ("kubectl", '{"clientVersion": {"major": "1", "gitVersion": "v1.34.1"}}', "1.34.1"),
    ],
)
def test_tool_versions_are_read_from_what_each_tool_prints(tool: str, output: str, version: str) -> None:
    from wharf_infra.local.prerequisites import TOOLS, parse_version

    assert parse_version(next(t for t in TOOLS if t.name == tool), output) == version


def _pod(namespace: str, name: str, phase: str, ready: str) -> dict[str, object]:
    return {
        "metadata": {"namespace": namespace, "name": name},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }


def test_readiness_counts_long_running_pods_of_the_platform_namespaces() -> None:
    pods = {
        "items": [
            _pod("wharf", "dagster-webserver-1", "Running", "True"),
            _pod("wharf", "trino-coordinator-1", "Running", "False"),
            _pod("wharf", "dagster-run-abc", "Succeeded", "False"),  # a finished run Job
            _pod("kube-system", "coredns-1", "Pending", "False"),  # not the platform's
        ]
    }
    state = pod_readiness(pods, ["wharf"])
    assert (state.ready, state.total, state.waiting, state.done) == (
        1,
        2,
        ("wharf/trino-coordinator-1",),
        False,
    )
    releases = [
        {"name": "dagster", "namespace": "wharf", "status": "deployed"},
        {"name": "trino", "namespace": "wharf", "status": "pending-install"},
    ]
    assert undeployed_releases(releases) == ["wharf/trino (pending-install)"]


@pytest.fixture
def loopback_server() -> Iterator[int]:
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(self.headers["Host"].encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_gateway_hostnames_reach_loopback_and_other_names_do_not_change(loopback_server: int) -> None:
    url = f"http://dagster.wharf.example:{loopback_server}/"
    with hostnames_resolved_to("wharf.example", "127.0.0.1"):
        answer = requests.get(url, timeout=10)
        assert answer.text == f"dagster.wharf.example:{loopback_server}"  # the Host header is kept
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("dagster.elsewhere.invalid", 80)
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=10)


def _smoke_target_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smoke_target", REPO_ROOT / "tests" / "smoke" / "target.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_smoke_target_make_cluster_writes_is_one_the_smoke_suite_reads(tmp_path: Path) -> None:
    state = ClusterState(tmp_path)
    domain = state.platform.domain
    urls = {name: f"https://{name}.{domain}" for name in ("dagster", "marquez", "trino", "superset")}
    path = tmp_path / "smoke-target.yaml"
    path.write_text(yaml.safe_dump(smoke_target(state, urls, "admin", "s3cret")))
    target = _smoke_target_module().from_file(path)
    assert target.dagster_url == urls["dagster"]
    assert (target.trino["host"], target.trino["port"], target.trino["scheme"]) == (
        f"trino.{domain}",
        443,
        "https",
    )
    assert target.auth == ("admin", "s3cret")
    assert target.trino["user"] == "admin"  # Trino's client sends it as the gateway's basic-auth name
    assert target.marquez_url == urls["marquez"]
    assert target.superset_url == urls["superset"]
    assert target.kubeconfig == state.kubeconfig
    assert target.verify_tls == str(state.ca_certificate)
    assert target.resolve == (domain, "127.0.0.1")


def test_the_kwok_smoke_target_sends_kubernetes_checks_to_the_cluster_and_the_data_path_native(
    tmp_path: Path,
) -> None:
    state = ClusterState(tmp_path, "kwok")
    path = tmp_path / "smoke-target.yaml"
    path.write_text(yaml.safe_dump(simulated_smoke_target(state)))
    target = _smoke_target_module().from_file(path)
    native = _smoke_target_module().native_stack()
    assert target.simulated and target.native_data_plane
    assert (target.kubeconfig, target.namespace) == (state.kubeconfig, state.platform.namespace)
    assert (target.dagster_url, target.trino, target.marquez_url) == (
        native.dagster_url,
        native.trino,
        native.marquez_url,
    )
    assert target.auth is None and target.resolve is None
