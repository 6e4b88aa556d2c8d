"""The kind tier: the commands a user types — `make cluster`, `make smoke`, `make destroy` — on a
real kind cluster whose pods run wharf's images.

`make cluster` runs once for the module (its phases' times printed); the tests then check what runs:
the smoke suite passes with nothing skipped, a second `make cluster` changes nothing and rebuilds
nothing, NetworkPolicy is enforced (a pod without a grant cannot reach the data services, a code
server can), every running pod meets PodSecurity `restricted`. The module ends with `make destroy`
and checks that no container, network, state file or process of wharf is left; the node's peak
memory is printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_objects import ClusterObjects, dagster_rights_beyond_its_namespace, stored_workload_violations
from container_engine import engine_or_skip
from stack_preview import changes_of_one_more_concurrent_run

from wharf_infra.build.docker_engine import ensure_engine, stop_engine
from wharf_infra.contract.endpoints import POSTGRES_SERVICE, TRINO_SERVICE
from wharf_infra.core.image_tags import content_tag, image_name
from wharf_infra.core.paths import REPO_ROOT, upstream_dir
from wharf_infra.core.registry import load_registry
from wharf_infra.deploy.components.minio import API_PORT as MINIO_PORT
from wharf_infra.deploy.components.minio import NAME as MINIO
from wharf_infra.local.kind_plan import KIND_NETWORK
from wharf_infra.local.state import ClusterState
from wharf_infra.verify.policy import privilege_violations

UP_TIMEOUT_S = 5400  # cold: the kind node's tools and images are built first
SMOKE_TIMEOUT_S = 2400
PROBE_NAMESPACE = "wharf-kind-probe"  # no NetworkPolicy grants it anything
PHASE = re.compile(r"^\[(\d+)/\d+\] (?:done in (\d+) s|(.*))$")


def _local(command: str, timeout: float) -> str:
    """`python -m wharf_infra.local <command> --target kind`, its output shown and returned."""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "wharf_infra.local", command, "--target", "kind"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command} failed:\n{output[-6000:]}"
    return output


def _phases(output: str) -> list[tuple[str, int]]:
    """(step title, seconds) of each step `make cluster` ran, from its `[n/N]` lines."""
    titles: dict[str, str] = {}
    timed = []
    for line in output.splitlines():
        if match := PHASE.match(line):
            number, seconds, title = match.groups()
            if title:
                titles[number] = title
            else:
                timed.append((titles.get(number, number)[:70], int(seconds)))
    return timed


def _report(config: pytest.Config, what: str, lines: list[str]) -> None:
    """A figure, written to the terminal as it is measured (not captured, passed or failed)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    text = "\n".join([f"\n  kind: {what}", *(f"    {line}" for line in lines)])
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(text)


class Kind:
    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self.namespace = state.platform.namespace
        self.objects = ClusterObjects(state)

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(self.state.kubeconfig), *args],
            env={**os.environ, **self.state.env()},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def node_container(self) -> str:
        return f"{self.state.cluster.name}-control-plane"


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def _node_peak_memory(container: str) -> str:
    """The node container's peak memory from its cgroup (v1 keeps the maximum; v2 has none)."""
    full_id = _docker("inspect", "--format", "{{.Id}}", container).strip()
    for path in (
        Path(f"/sys/fs/cgroup/memory/docker/{full_id}/memory.max_usage_in_bytes"),
        Path(f"/sys/fs/cgroup/system.slice/docker-{full_id}.scope/memory.peak"),
    ):
        if path.is_file():
            return f"{int(path.read_text()) / 2**30:.1f} GiB"
    return "not readable on this host's cgroups"


@pytest.fixture(scope="module")
def kind(request: pytest.FixtureRequest) -> Iterator[Kind]:
    started = engine_or_skip()
    if upstream_dir() is None:
        reason = "no $WHARF_UPSTREAM_DIR: the charts and kind's sources come from it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    state = ClusterState.default("kind")
    try:
        output = _local("up", UP_TIMEOUT_S)
        _report(request.config, "make cluster, per phase (s)", [f"{s:>5}  {t}" for t, s in _phases(output)])
        yield Kind(state)
        _report(request.config, "the node's peak memory", [_node_peak_memory(Kind(state).node_container())])
    finally:
        output = _local("down", 1800)
        _report(request.config, "make destroy, per phase (s)", [f"{s:>5}  {t}" for t, s in _phases(output)])
        restarted = ensure_engine()  # `make destroy` stops an engine wharf started: look, then stop it
        left = _left_behind(state)
        if started or restarted:
            stop_engine()
    assert left == [], f"make destroy left {left}"


def _left_behind(state: ClusterState) -> list[str]:
    """What `make destroy` should have removed: node containers, kind's network, the state folder,
    wharf's Pulumi processes."""
    left = []
    label = f"label=io.x-k8s.kind.cluster={state.cluster.name}"
    if _docker("ps", "--all", "--quiet", "--filter", label).strip():
        left.append("kind node containers")
    if KIND_NETWORK in _docker("network", "ls", "--format", "{{.Name}}").split():
        left.append(f"the {KIND_NETWORK} network")
    if state.root.exists():
        left.append(str(state.root))
    processes = subprocess.run(["pgrep", "-af", "pulumi"], capture_output=True, text=True, check=False).stdout
    left += [line for line in processes.splitlines() if str(REPO_ROOT) in line or "wharf" in line]
    return left


def test_make_smoke_passes_with_nothing_skipped(kind: Kind, request: pytest.FixtureRequest) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "smoke", "-rs", "-p", "no:cacheprovider", "tests/smoke"],
        cwd=REPO_ROOT,
        env={**os.environ, "WHARF_SMOKE_TARGET": str(kind.state.smoke_target)},
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        check=False,
    )
    _report(
        request.config,
        "make smoke",
        [f"{time.monotonic() - started:.0f} s", result.stdout.strip().splitlines()[-1]],
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert "skipped" not in summary and "passed" in summary, result.stdout[-4000:]


def test_a_second_make_cluster_changes_nothing_and_rebuilds_nothing(kind: Kind) -> None:
    output = _local("up", UP_TIMEOUT_S)
    assert ": building" not in output, "an image was rebuilt"
    changed = re.findall(r"^\s+[+~-]+\s*\d+ (?:created|updated|deleted|replaced)", output, re.MULTILINE)
    assert changed == [], changed
    assert re.search(r"^\s+\d+ unchanged", output, re.MULTILINE), output[-4000:]


def test_a_changed_setting_previews_as_exactly_the_expected_diff(kind: Kind, tmp_path: Path) -> None:
    """One more concurrent run in the stack config changes the Dagster release and nothing else."""
    changes = changes_of_one_more_concurrent_run(kind.state, tmp_path)
    assert changes == {("update", "dagster-dagster")}, changes  # component `dagster`, its release


def _reaches(kind: Kind, namespace: str, pod: str, host: str, port: int, container: str = "") -> bool:
    """Whether `pod` opens a TCP connection to host:port within 5 s (Python, in the pod)."""
    probe = (
        "import socket,sys\n"
        f"s=socket.socket(); s.settimeout(5)\n"
        f"sys.exit(0 if s.connect_ex(('{host}', {port})) == 0 else 1)"
    )
    where = ["--container", container] if container else []
    argv = ["exec", "--namespace", namespace, pod, *where, "--", "python3", "-c", probe]
    return kind.kubectl(*argv, check=False).returncode == 0


SERVICES = {"postgres": POSTGRES_SERVICE, "minio": (MINIO, MINIO_PORT), "trino": TRINO_SERVICE}


@pytest.fixture(scope="module")
def probe_pod(kind: Kind) -> Iterator[str]:
    """A pod in a namespace no NetworkPolicy admits, on an image the node has (the weather one)."""
    weather = next(loc for loc in load_registry() if loc.name == "weather")
    image = f"{image_name(kind.state.platform.image_registry, weather)}:{content_tag(weather)}"
    manifest = f"""
apiVersion: v1
kind: Namespace
metadata:
  name: {PROBE_NAMESPACE}
  labels: {{pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: v1
kind: Pod
metadata: {{name: probe, namespace: {PROBE_NAMESPACE}}}
spec:
  securityContext: {{runAsNonRoot: true, runAsUser: 10001, seccompProfile: {{type: RuntimeDefault}}}}
  containers:
    - name: probe
      image: {image}
      imagePullPolicy: Never
      command: [sleep, "3600"]
      securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
      resources: {{requests: {{cpu: 10m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
"""
    subprocess.run(
        ["kubectl", "--kubeconfig", str(kind.state.kubeconfig), "apply", "-f", "-"],
        input=manifest,
        env={**os.environ, **kind.state.env()},
        text=True,
        check=True,
        capture_output=True,
    )
    try:
        kind.kubectl(
            "wait",
            "--namespace",
            PROBE_NAMESPACE,
            "--for=condition=Ready",
            "pod/probe",
            "--timeout=300s",
            timeout=330,
        )
        yield "probe"
    finally:
        kind.kubectl("delete", "namespace", PROBE_NAMESPACE, "--wait=false", check=False)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_pod_without_a_grant_cannot_reach_the_data_services(
    kind: Kind, probe_pod: str, service: str
) -> None:
    name, port = SERVICES[service]
    host = f"{name}.{kind.namespace}.svc.cluster.local"
    assert not _reaches(kind, PROBE_NAMESPACE, probe_pod, host, port), (
        f"{service} answered a pod without a grant"
    )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_code_server_can_reach_the_data_services(kind: Kind, service: str) -> None:
    name, port = SERVICES[service]
    pods = kind.kubectl(
        "get",
        "pods",
        "--namespace",
        kind.namespace,
        "--selector",
        "component=user-deployments",
        "--output",
        "jsonpath={.items[*].metadata.name}",
    ).stdout.split()
    assert pods, "no code-server pod"
    assert _reaches(kind, kind.namespace, pods[0], name, port), f"{pods[0]} cannot reach {service}"


def test_every_running_pod_meets_pod_security_restricted(kind: Kind) -> None:
    running = [pod for pod in kind.objects.items("pods") if pod["status"].get("phase") == "Running"]
    assert len(running) >= 10, [p["metadata"]["name"] for p in running]
    violations = [v for pod in running for v in privilege_violations(pod)]
    assert violations == []
    for namespace in kind.objects.namespaces:
        labels = kind.objects.get("namespace", namespace)["metadata"]["labels"]
        assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", namespace
    refused = [e["message"] for e in kind.objects.items("events") if e["reason"] == "FailedCreate"]
    assert refused == []


def test_every_stored_workload_meets_the_policy(kind: Kind) -> None:
    assert stored_workload_violations(kind.objects) == []


def test_dagster_launches_runs_in_its_namespace_and_nothing_cluster_wide(kind: Kind) -> None:
    assert dagster_rights_beyond_its_namespace(kind.objects) == []
