"""Checks only a Kubernetes target can answer; skipped with a reason when no kubeconfig is given."""

from typing import Any

import pytest
import requests
from target import Target

from wharf_infra.registry import load_registry

pytestmark = pytest.mark.usefixtures("kubernetes")


@pytest.fixture(scope="module")
def kubernetes(target: Target) -> Any:
    if target.kubeconfig is None:
        pytest.skip(
            "no kubeconfig in the smoke target: Kubernetes checks need a cluster (make smoke on kind)"
        )
    from kubernetes import client, config

    config.load_kube_config(str(target.kubeconfig))
    return client


def test_every_platform_pod_is_ready(kubernetes: Any, target: Target) -> None:
    pods = kubernetes.CoreV1Api().list_namespaced_pod(target.namespace).items
    running = [p for p in pods if p.status.phase == "Running"]
    assert running
    not_ready = [
        p.metadata.name for p in running if not all(c.ready for c in (p.status.container_statuses or []))
    ]
    assert not_ready == []


def test_the_run_executed_in_its_own_job_with_the_location_image_resources_and_ttl(
    kubernetes: Any, target: Target, finished_run: str
) -> None:
    job_name = f"dagster-run-{finished_run}"  # how the K8sRunLauncher names a run's Job
    jobs = kubernetes.BatchV1Api().list_namespaced_job(target.namespace).items
    job = next((j for j in jobs if j.metadata.name == job_name), None)
    assert job is not None, f"no Job {job_name} in {target.namespace}: {[j.metadata.name for j in jobs][:10]}"
    weather = next(loc for loc in load_registry() if loc.name == "weather")
    container = job.spec.template.spec.containers[0]
    assert "/wharf-weather:" in container.image, container.image
    assert container.resources.limits["memory"] == weather.limits.memory
    assert container.resources.requests["cpu"] == weather.requests.cpu
    assert job.spec.ttl_seconds_after_finished and job.spec.ttl_seconds_after_finished <= 3600


def test_the_gateway_refuses_anonymous_requests_and_accepts_the_login(target: Target) -> None:
    anonymous = requests.get(f"{target.dagster_url}/server_info", timeout=30, verify=target.verify_tls)
    assert anonymous.status_code in (401, 302, 403)
    assert target.auth is not None, "the Kubernetes target needs the gateway login (auth) in its description"
    logged_in = requests.get(
        f"{target.dagster_url}/server_info", timeout=30, auth=target.auth, verify=target.verify_tls
    )
    assert logged_in.status_code == 200
