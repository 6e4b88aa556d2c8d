"""Checks only a Kubernetes target can answer; skipped with a reason when no kubeconfig is given.

On a cluster whose nodes kwok simulates, the same checks run with two differences: the run Job comes
from the run launcher configured as the chart stored it (the daemon's container does not run there),
and the gateway's login check is skipped, as no Traefik pod serves traffic without containers.
"""

from typing import Any

import pytest
import requests
from conftest import JOB
from run_launch import launch_run
from target import Target

from wharf_infra.core.quantities import cpu_millicores
from wharf_infra.core.registry import load_registry

pytestmark = pytest.mark.usefixtures("kubernetes")
WEATHER = next(loc for loc in load_registry() if loc.name == "weather")


@pytest.fixture(scope="module")
def kubernetes(target: Target) -> Any:
    if target.kubeconfig is None:
        pytest.skip(
            "no kubeconfig in the smoke target: Kubernetes checks need a cluster "
            "(make smoke after make cluster; the cluster tier runs them on kwok)"
        )
    from kubernetes import client, config

    config.load_kube_config(str(target.kubeconfig))
    return client


@pytest.fixture(scope="module")
def run_job_name(target: Target, request: pytest.FixtureRequest) -> str:
    """The Job of a weather run: the suite's run on a real cluster, one launched here on kwok."""
    if target.simulated:
        assert target.kubeconfig is not None
        launched = launch_run(target.kubeconfig, target.namespace, WEATHER.name, JOB, WEATHER.module)
        job_name: str = launched.job_name
        return job_name
    finished_run: str = request.getfixturevalue("finished_run")
    return f"dagster-run-{finished_run}"  # how the K8sRunLauncher names a run's Job


def test_every_platform_pod_is_ready(kubernetes: Any, target: Target) -> None:
    pods = kubernetes.CoreV1Api().list_namespaced_pod(target.namespace).items
    running = [p for p in pods if p.status.phase == "Running"]
    assert running
    not_ready = [
        p.metadata.name for p in running if not all(c.ready for c in (p.status.container_statuses or []))
    ]
    assert not_ready == []


def test_the_run_executed_in_its_own_job_with_the_location_image_resources_and_ttl(
    kubernetes: Any, target: Target, run_job_name: str
) -> None:
    jobs = kubernetes.BatchV1Api().list_namespaced_job(target.namespace).items
    job = next((j for j in jobs if j.metadata.name == run_job_name), None)
    names = [j.metadata.name for j in jobs]
    assert job is not None, f"no Job {run_job_name} in {target.namespace}: {names[:10]}"
    container = job.spec.template.spec.containers[0]
    assert f"/wharf-{WEATHER.name}:" in container.image, container.image
    assert container.resources.limits["memory"] == WEATHER.limits.memory
    # The registry's request, or the stack's lower `cpuRequestCeiling` (kind on a small machine).
    requested = cpu_millicores(container.resources.requests["cpu"])
    assert 0 < requested <= cpu_millicores(WEATHER.requests.cpu), container.resources.requests
    assert job.spec.ttl_seconds_after_finished and job.spec.ttl_seconds_after_finished <= 3600


def test_the_gateway_refuses_anonymous_requests_accepts_the_login_and_redirects_http(target: Target) -> None:
    if target.simulated:
        pytest.skip("kwok simulates containers: no Traefik pod serves the gateway (checked on kind and EKS)")
    anonymous = requests.get(f"{target.dagster_url}/server_info", timeout=30, verify=target.verify_tls)
    assert anonymous.status_code in (401, 302, 403)
    assert target.auth is not None, "the Kubernetes target needs the gateway login (auth) in its description"
    logged_in = requests.get(
        f"{target.dagster_url}/server_info", timeout=30, auth=target.auth, verify=target.verify_tls
    )
    assert logged_in.status_code == 200
    plain = target.dagster_url.replace("https://", "http://", 1)
    redirected = requests.get(f"{plain}/server_info", timeout=30, allow_redirects=False)
    assert redirected.status_code == 301, redirected.status_code
    assert redirected.headers["Location"].startswith("https://"), redirected.headers["Location"]
