"""Launch a run into a cluster the way its Dagster daemon does, from outside the cluster.

The K8sRunLauncher is configured from the `dagster-instance` ConfigMap the chart stored, with only the
in-cluster login swapped for a kubeconfig; the run's code origin is what the location's code server
hands the daemon (its image and container context, read from the location's Deployment). On a
cluster whose nodes are simulated this is how a run Job gets created at all: the daemon's container
does not run there. The cluster tier and the smoke suite both launch through here.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

INSTANCE_CONFIGMAP = "dagster-instance"  # the Dagster chart's name for the instance's dagster.yaml
IMAGE_PYTHON = "/usr/local/bin/python"  # the interpreter in every location image


@dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    job_name: str  # the run's Job, as the K8sRunLauncher names it
    location_container: dict[str, Any]  # the location Deployment's container, as the API stored it


def _api(kubeconfig: Path) -> Any:
    from kubernetes import config

    return config.new_client_from_config(str(kubeconfig))


def _location_container(api: Any, namespace: str, location: str) -> dict[str, Any]:
    from kubernetes import client

    deployments = client.AppsV1Api(api).list_namespaced_deployment(namespace).items
    found = [d for d in deployments if d.metadata.name.endswith(location)]
    if len(found) != 1:
        names = [d.metadata.name for d in deployments]
        raise LookupError(f"expected one Deployment of location {location!r} in {namespace}, found {names}")
    container: dict[str, Any] = api.sanitize_for_serialization(found[0].spec.template.spec.containers[0])
    return container


def launch_run(kubeconfig: Path, namespace: str, location: str, job: str, module: str) -> LaunchedRun:
    """Create a run of `job` (defined in `module`) and launch it with the stored run launcher."""
    from dagster import DagsterInstance, Definitions
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.launcher import LaunchRunContext
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
    from kubernetes import client

    api = _api(kubeconfig)
    stored = client.CoreV1Api(api).read_namespaced_config_map(INSTANCE_CONFIGMAP, namespace)
    launcher = yaml.safe_load(stored.data["dagster.yaml"])["run_launcher"]
    if launcher["class"] != "K8sRunLauncher":
        raise ValueError(f"the stored instance launches runs with {launcher['class']}, not K8sRunLauncher")
    launcher["config"] |= {"load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    container = _location_container(api, namespace, location)
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    repository = RepositoryPythonOrigin(
        executable_path=IMAGE_PYTHON,
        code_pointer=ModuleCodePointer(module, "defs", None),
        container_image=env["DAGSTER_CURRENT_IMAGE"],
        container_context=json.loads(env["DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT"]),
    )
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "dagster.yaml").write_text(yaml.safe_dump({"run_launcher": launcher}))
        with DagsterInstance.from_config(home) as instance:
            run = instance.create_run(
                job_name=job,
                job_code_origin=JobPythonOrigin(job, repository),
                asset_graph=Definitions().resolve_asset_graph(),  # the whole job: no asset selected
                run_id=None,
                run_config=None,
                status=None,
                tags=None,
                root_run_id=None,
                parent_run_id=None,
                step_keys_to_execute=None,
                execution_plan_snapshot=None,
                job_snapshot=None,
                parent_job_snapshot=None,
                asset_selection=None,
                asset_check_selection=None,
                resolved_op_selection=None,
                op_selection=None,
                remote_job_origin=None,
            )
            instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return LaunchedRun(run.run_id, f"dagster-run-{run.run_id}", container)
