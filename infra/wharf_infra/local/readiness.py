"""Wait until the platform serves: every chart release deployed, every pod Ready, the gateway up.

`pulumi up` already waits for each resource it creates; this step waits for the whole (operators
that create pods of their own, such as CloudNativePG's Postgres) and shows progress while it does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests

from wharf_infra.contract.facts import CERT_MANAGER_NAMESPACE, GATEWAY_NAMESPACE, OPERATOR_NAMESPACE
from wharf_infra.core.paths import PLATFORM_PROGRAM
from wharf_infra.local.handoff import login, save_ca
from wharf_infra.local.resolution import GATEWAY_ADDRESS, hostnames_resolved_to
from wharf_infra.local.state import STACK, ClusterState

TIMEOUT_S = 900
POLL_S = 5


@dataclass(frozen=True)
class PodReadiness:
    ready: int
    total: int
    waiting: tuple[str, ...]  # namespace/name of pods not Ready yet

    @property
    def done(self) -> bool:
        return self.total > 0 and self.ready == self.total


def pod_readiness(pod_list: dict[str, Any], namespaces: Iterable[str]) -> PodReadiness:
    """Readiness of the long-running pods in `namespaces`, from `kubectl get pods -A -o json`."""
    wanted = set(namespaces)
    ready, waiting = 0, []
    total = 0
    for pod in pod_list.get("items", []):
        meta, status = pod["metadata"], pod.get("status", {})
        if meta["namespace"] not in wanted or status.get("phase") in ("Succeeded", "Failed"):
            continue  # finished Job pods (migrations, runs) are not part of readiness
        total += 1
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        if conditions.get("Ready") == "True":
            ready += 1
        else:
            waiting.append(f"{meta['namespace']}/{meta['name']}")
    return PodReadiness(ready, total, tuple(sorted(waiting)))


def undeployed_releases(release_list: list[dict[str, Any]]) -> list[str]:
    """Releases from `helm list -A -o json` whose status is not `deployed`."""
    return [
        f"{r['namespace']}/{r['name']} ({r['status']})" for r in release_list if r["status"] != "deployed"
    ]


def unavailable_workloads(workload_list: dict[str, Any]) -> list[str]:
    """Deployments and StatefulSets from `kubectl get deploy,sts -A -o json` not fully available."""
    pending = []
    for item in workload_list.get("items", []):
        wanted = item["spec"].get("replicas", 1)
        status = item.get("status", {})
        have = (
            status.get("availableReplicas", 0)
            if item["kind"] == "Deployment"
            else status.get("readyReplicas", 0)
        )
        if have < wanted:
            pending.append(
                f"{item['kind']} {item['metadata']['namespace']}/{item['metadata']['name']} {have}/{wanted}"
            )
    return pending


def declared_custom_resources(
    state_export: dict[str, Any], crds: dict[str, Any]
) -> set[tuple[str, str, str]]:
    """(group/kind, namespace, name) of each Pulumi-declared object whose kind a CRD defines."""
    custom = {(c["spec"]["group"], c["spec"]["names"]["kind"]) for c in crds.get("items", [])}
    found = set()
    for resource in state_export["deployment"].get("resources", []):
        outputs = resource.get("outputs") or {}
        group = str(outputs.get("apiVersion", "")).rpartition("/")[0]
        if (group, outputs.get("kind")) in custom:
            meta = outputs["metadata"]
            found.add((f"{group}/{outputs['kind']}", meta.get("namespace", ""), meta["name"]))
    return found


def _until(what: str, probe: Callable[[], str | None], deadline: float) -> None:
    """Poll `probe` (None when done, else what it still waits for), printing changes as they come."""
    last = ""
    while (pending := probe()) is not None:
        if pending != last:
            print(f"  {what}: {pending}", flush=True)
            last = pending
        if time.monotonic() > deadline:
            raise SystemExit(
                f"gave up after {TIMEOUT_S} s waiting for {what}: {pending}. "
                "Inspect with `kubectl get pods -A` (KUBECONFIG as printed above)."
            )
        time.sleep(POLL_S)
    print(f"  {what}: ready", flush=True)


def wait(state: ClusterState) -> None:
    config = state.platform
    namespaces = (config.namespace, OPERATOR_NAMESPACE, CERT_MANAGER_NAMESPACE, GATEWAY_NAMESPACE)
    deadline = time.monotonic() + TIMEOUT_S

    def releases() -> str | None:
        pending = undeployed_releases(state.cluster_json("helm", "list", "--all-namespaces") or [])
        return ", ".join(pending) or None

    def pods() -> str | None:
        ready_pods = pod_readiness(
            state.cluster_json("kubectl", "get", "pods", "--all-namespaces"), namespaces
        )
        if ready_pods.done:
            return None
        waiting = ", ".join(ready_pods.waiting[:4]) or "pods"
        return f"{ready_pods.ready}/{ready_pods.total} Ready; waiting for {waiting}"

    def ca() -> str | None:
        return None if save_ca(state) else "cert-manager has not issued the local CA yet"

    def gateway(credentials: tuple[str, str]) -> str | None:
        url = f"https://{config.host('dagster')}/server_info"
        verify = str(state.ca_certificate)
        try:
            with hostnames_resolved_to(config.domain, GATEWAY_ADDRESS):
                anonymous = requests.get(url, timeout=10, verify=verify)
                if anonymous.status_code != 401:
                    return f"{url} answered {anonymous.status_code} without the login, not 401"
                logged_in = requests.get(url, timeout=10, verify=verify, auth=credentials)
        except requests.RequestException as error:
            return f"{url} unreachable ({type(error).__name__})"
        return None if logged_in.ok else f"{url} answered {logged_in.status_code} with the login"

    _until("chart releases", releases, deadline)
    _until("pods", pods, deadline)
    _until("local CA", ca, deadline)
    credentials = login(state)
    _until("gateway (TLS, login, Dagster behind it)", lambda: gateway(credentials), deadline)


def wait_simulated(state: ClusterState) -> None:
    """The kwok target's readiness: releases, workloads and custom resources (no traffic to test)."""
    deadline = time.monotonic() + TIMEOUT_S

    def releases() -> str | None:
        pending = undeployed_releases(state.cluster_json("helm", "list", "--all-namespaces") or [])
        return ", ".join(pending) or None

    def workloads() -> str | None:
        listed = state.cluster_json("kubectl", "get", "deployments,statefulsets", "--all-namespaces")
        pending = unavailable_workloads(listed)
        return f"{len(pending)} not available: {', '.join(pending[:4])}" if pending else None

    def custom_resources() -> str | None:
        exported = state.pulumi_json(PLATFORM_PROGRAM, "stack", "export", "--stack", STACK, flag=False)
        crds = state.cluster_json("kubectl", "get", "customresourcedefinitions")
        missing = []
        for kind, namespace, name in sorted(declared_custom_resources(exported, crds)):
            group, _, kind_name = kind.partition("/")
            where = ("--namespace", namespace) if namespace else ()
            if (
                state.cluster_json("kubectl", "get", f"{kind_name}.{group}", name, *where, check=False)
                is None
            ):
                missing.append(f"{kind} {namespace}/{name}")
        return f"not stored: {', '.join(missing)}" if missing else None

    _until("chart releases", releases, deadline)
    _until("Deployments and StatefulSets (simulated pods)", workloads, deadline)
    _until("custom resources", custom_resources, deadline)
    print(
        "  kwok simulates the nodes: every pod is scheduled and admitted but runs nothing, so TLS, the\n"
        "  gateway's login and the data path are checked on kind (make cluster) and the native stack.",
        flush=True,
    )
