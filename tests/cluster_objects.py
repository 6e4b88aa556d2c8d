"""What a local cluster's API server stored for the platform, and the checks both cluster tiers
(kwok and kind) make on it: the policy on every stored workload, and the Dagster accounts' rights."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from wharf_infra.contract.facts import CERT_MANAGER_NAMESPACE, GATEWAY_NAMESPACE, OPERATOR_NAMESPACE
from wharf_infra.local.state import ClusterState
from wharf_infra.verify.policy import (
    image_violations,
    pinned_images,
    privilege_violations,
    resource_violations,
)

WORKLOAD_KINDS = "deployments,statefulsets,daemonsets,jobs,cronjobs"


class ClusterObjects:
    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self.namespace = state.platform.namespace
        self.namespaces = (self.namespace, OPERATOR_NAMESPACE, CERT_MANAGER_NAMESPACE, GATEWAY_NAMESPACE)

    def get(self, *args: str) -> Any:
        return self.state.cluster_json("kubectl", "get", *args)

    def items(self, kinds: str) -> list[dict[str, Any]]:
        listed = self.get(kinds, "--all-namespaces")["items"]
        return [o for o in listed if o["metadata"].get("namespace") in self.namespaces]

    def can(self, service_account: str, verb: str, resource: str, namespace: str | None) -> bool:
        where = ["--namespace", namespace] if namespace else ["--all-namespaces"]
        who = f"system:serviceaccount:{self.namespace}:{service_account}"
        answer = subprocess.run(
            ["kubectl", "auth", "can-i", verb, resource, "--as", who, *where],
            env={**os.environ, **self.state.env()},
            capture_output=True,
            text=True,
            check=False,
        )
        return answer.stdout.strip() == "yes"


def stored_workload_violations(cluster: ClusterObjects) -> list[str]:
    """Resources, privileges and pinned images of every workload the API server stored."""
    workloads = cluster.items(WORKLOAD_KINDS)
    kinds = {o["kind"] for o in workloads}
    assert {"Deployment", "StatefulSet"} <= kinds, kinds
    pinned = pinned_images()
    return [
        v
        for obj in workloads
        for v in (*resource_violations(obj), *privilege_violations(obj), *image_violations(obj, pinned))
    ]


def _service_accounts(cluster: ClusterObjects) -> dict[str, str]:
    """Service account of each Dagster Deployment, by its chart component."""
    return {
        d["metadata"].get("labels", {}).get("component", d["metadata"]["name"]): d["spec"]["template"][
            "spec"
        ].get("serviceAccountName", "default")
        for d in cluster.items("deployments")
        if d["metadata"]["namespace"] == cluster.namespace and "dagster" in d["metadata"]["name"]
    }


def dagster_rights_beyond_its_namespace(cluster: ClusterObjects) -> list[str]:
    """What the Dagster accounts may do that they should not, or may not do that they must: the
    launchers run Jobs in the platform's namespace and nothing cluster-wide; code servers launch none."""
    accounts = _service_accounts(cluster)
    launchers = {accounts["dagster-daemon"], accounts["dagster-webserver"]}
    wrong = []
    for account in launchers:
        needed = [(verb, "jobs.batch") for verb in ("create", "watch", "delete")] + [("watch", "pods")]
        wrong += [
            f"{account} cannot {v} {r}"
            for v, r in needed
            if not cluster.can(account, v, r, cluster.namespace)
        ]
        refused = [
            ("create", "jobs.batch", "kube-system"),
            ("list", "nodes", None),
            ("create", "namespaces", None),
            ("get", "secrets", "kube-system"),
        ]
        wrong += [
            f"{account} can {v} {r} in {n or 'the cluster'}"
            for v, r, n in refused
            if cluster.can(account, v, r, n)
        ]
    user_code = {a for component, a in accounts.items() if component == "user-deployments"} - launchers
    assert user_code, accounts
    for account in user_code:
        wrong += [
            f"{account} can create {r}"
            for r in ("jobs.batch", "pods")
            if cluster.can(account, "create", r, cluster.namespace)
        ]
    return wrong
