"""The cluster tier: the real `pulumi up` of the platform on a real control plane (kwok nodes).

`make cluster TARGET=kwok` runs once for the module; the tests read what the API server stored;
the last test runs `pulumi destroy` and checks nothing is left. kwok simulates the kubelet, so
what needs a process inside a container (TLS at the gateway, logins, queries) is not checked here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_objects import ClusterObjects, dagster_rights_beyond_its_namespace, stored_workload_violations
from run_launch import launch_run
from stack_preview import changes_of_one_more_concurrent_run, pulumi

from wharf_infra.core.paths import PLATFORM_PROGRAM, REPO_ROOT, upstream_dir
from wharf_infra.core.registry import load_registry
from wharf_infra.deploy.components.dagster import RUN_JOB_TTL_SECONDS
from wharf_infra.deploy.labels import PART_OF
from wharf_infra.local.kwok.control_plane import ControlPlane
from wharf_infra.local.kwok_plan import destroy_steps
from wharf_infra.local.state import ClusterState, stack_file
from wharf_infra.verify.policy import privilege_violations, resource_violations

UP_TIMEOUT_S = 3600  # cold: the toolchain builds first (about 30 min of CPU on 2 cores)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterObjects]:
    reasons = []
    if upstream_dir() is None:
        reasons.append("no $WHARF_UPSTREAM_DIR (the charts are installed from its charts/ folder)")
    if shutil.which("go") is None:
        reasons.append("no Go toolchain to build the control plane and Pulumi from the module proxy")
    if reasons:
        if os.environ.get("CI") == "true":
            pytest.fail("the cluster tier cannot run in CI: " + "; ".join(reasons))
        pytest.skip("; ".join(reasons))
    state = ClusterState.default("kwok")
    tracked = stack_file(PLATFORM_PROGRAM).read_bytes()
    subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "wharf_infra.local", "up", "--target", "kwok"],
        cwd=REPO_ROOT,
        check=True,
        timeout=UP_TIMEOUT_S,
    )
    # The passphrase's salt went into the target's own config file, not into git's.
    assert stack_file(PLATFORM_PROGRAM).read_bytes() == tracked
    yield ClusterObjects(state)
    for step in destroy_steps(state)[1:]:  # the control plane stops even when a test failed
        step.run(state.env())
    assert not any(ControlPlane(state.root).running().values())
    left = ControlPlane(state.root).supervisor.leftovers()
    assert not left, f"the control plane's stop left processes running: {left}"


def test_every_stored_workload_meets_the_policy(cluster: ClusterObjects) -> None:
    assert stored_workload_violations(cluster) == []


def test_trino_and_nessie_run_the_pinned_images(cluster: ClusterObjects) -> None:
    """The images the `local` stack chooses (`images: built`: wharf's, by content tag)."""
    images = {
        c["image"] for o in cluster.items("deployments") for c in o["spec"]["template"]["spec"]["containers"]
    }
    from wharf_infra.core.config import platform_config

    source = platform_config("local").image_source
    assert source.source == "built"
    assert source.reference("trino") in images
    assert source.reference("nessie") in images


def test_namespaces_enforce_restricted_and_every_pod_was_admitted(cluster: ClusterObjects) -> None:
    for namespace in cluster.namespaces:
        labels = cluster.get("namespace", namespace)["metadata"].get("labels", {})
        assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", namespace
    short = [
        f"{r['metadata']['namespace']}/{r['metadata']['name']}"
        for r in cluster.items("replicasets,statefulsets")
        if (r["status"].get("replicas") or 0) < (r["spec"].get("replicas") or 0)
    ]
    assert short == []
    refused = [e["message"] for e in cluster.items("events") if e["reason"] == "FailedCreate"]
    assert refused == []
    unscheduled = [p["metadata"]["name"] for p in cluster.items("pods") if not p["spec"].get("nodeName")]
    assert unscheduled == []


def test_dagster_launches_runs_in_its_namespace_and_nothing_cluster_wide(
    cluster: ClusterObjects,
) -> None:
    assert dagster_rights_beyond_its_namespace(cluster) == []


def test_the_k8s_run_launcher_as_the_chart_configures_it_launches_an_admitted_run_job(
    cluster: ClusterObjects,
) -> None:
    weather = next(loc for loc in load_registry() if loc.name == "weather")
    launched = launch_run(
        cluster.state.kubeconfig, cluster.namespace, weather.name, "weather_observations_job", weather.module
    )
    location_container = launched.location_container
    job = cluster.get("job", launched.job_name, "--namespace", cluster.namespace)
    pod_spec = job["spec"]["template"]["spec"]
    container = pod_spec["containers"][0]
    assert container["image"] == location_container["image"]
    assert container["resources"] == location_container["resources"]  # the registry's run resources
    assert job["spec"]["ttlSecondsAfterFinished"] == RUN_JOB_TTL_SECONDS
    assert privilege_violations(job) == [] and resource_violations(job) == []
    for source in container.get("envFrom", []):
        kind, ref = (
            ("configmap", source["configMapRef"])
            if "configMapRef" in source
            else ("secret", source["secretRef"])
        )
        assert cluster.get(kind, ref["name"], "--namespace", cluster.namespace), ref  # exists
    assert any("configMapRef" in source for source in container.get("envFrom", []))
    pods = cluster.get(
        "pods", "--namespace", cluster.namespace, "--selector", f"job-name={job['metadata']['name']}"
    )
    assert pods["items"], "the run's pod was not admitted"


def test_a_second_run_changes_nothing(cluster: ClusterObjects) -> None:
    preview = pulumi(cluster.state, "preview", "--expect-no-changes", "--diff")
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]


def test_a_changed_setting_previews_as_exactly_the_expected_diff(
    cluster: ClusterObjects, tmp_path: Path
) -> None:
    """One more concurrent run in the stack config changes the Dagster release and nothing else."""
    changes = changes_of_one_more_concurrent_run(cluster.state, tmp_path)
    assert changes == {("update", "dagster-dagster")}, changes  # component `dagster`, its release


def test_the_smoke_suites_kubernetes_checks_pass_on_this_target(cluster: ClusterObjects) -> None:
    """`make smoke` after `make cluster TARGET=kwok`, its Kubernetes checks only (the data path is
    the native stack's, which the integration and smoke tiers run)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "smoke",
            "-rs",
            "-p",
            "no:cacheprovider",
            str(REPO_ROOT / "tests" / "smoke" / "test_kubernetes.py"),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "WHARF_SMOKE_TARGET": str(cluster.state.smoke_target)},
        capture_output=True,
        text=True,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " 2 passed, 1 skipped" in summary, result.stdout[-4000:]
    assert "kwok simulates containers: no Traefik pod serves the gateway" in result.stdout


def test_destroy_leaves_no_wharf_object_custom_resource_or_namespace(cluster: ClusterObjects) -> None:
    custom_kinds = [
        f"{c['spec']['names']['plural']}.{c['spec']['group']}"
        for c in cluster.get("customresourcedefinitions")["items"]
    ]
    destroyed = pulumi(cluster.state, "destroy", "--yes", "--skip-preview")
    assert destroyed.returncode == 0, destroyed.stdout[-4000:] + destroyed.stderr[-2000:]
    namespaces = {n["metadata"]["name"] for n in cluster.get("namespaces")["items"]}
    assert namespaces.isdisjoint(cluster.namespaces), namespaces
    left = [
        f"{kind} {o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
        for kind in custom_kinds
        for o in (
            cluster.state.cluster_json("kubectl", "get", kind, "--all-namespaces", check=False) or {}
        ).get("items", [])
    ]
    assert left == []
    labelled = cluster.get("all", "--all-namespaces", "--selector", f"app.kubernetes.io/part-of={PART_OF}")[
        "items"
    ]
    assert labelled == []
