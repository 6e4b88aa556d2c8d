"""kube-router's firewall, for a cluster whose network does not enforce NetworkPolicy (the local
stack's kind: `networkPolicyEnforcer: kube-router`).

kindnet (kind's network) enforces NetworkPolicy through the kernel's nftables queue; on a kernel
without it (some CI machines, this project's among them) it fails open and every policy is admitted
but not enforced. kube-router, with its router and service proxy off, enforces the same policies
with iptables and ipsets, on every kernel kind runs on; where both work, both enforce the same
rules. It runs on the node's network as root with the two network capabilities, as a node agent of
`kube-system` (the platform's namespaces stay PodSecurity `restricted`). EKS enforces policies in
its own network (the VPC CNI's network policy agent).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.core.versions import versions
from wharf_infra.deploy.components.component import Component
from wharf_infra.deploy.components.namespaces import KUBE_SYSTEM as NAMESPACE
from wharf_infra.deploy.components.namespaces import POLICY_COMPONENT
from wharf_infra.deploy.components.security import resources
from wharf_infra.deploy.labels import labels, selector

NAME = "kube-router"
HEALTH_PORT = 20244
SERVICE_RANGE = "10.96.0.0/16"  # kind's default service subnet: kube-router lets it through
XTABLES_LOCK = "/run/xtables.lock"  # shared with kube-proxy and kindnet, so their updates interleave


class PolicyEnforcer(Component):
    """ServiceAccount, read-only ClusterRole and its binding, and the DaemonSet."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("PolicyEnforcer", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"name": NAME, "namespace": NAMESPACE, "labels": labels(NAME, POLICY_COMPONENT)}
        account = k8s.core.v1.ServiceAccount(f"{name}-account", metadata=meta, opts=child)
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata={"name": NAME, "labels": meta["labels"]},
            rules=[
                {
                    "apiGroups": [""],
                    "resources": ["namespaces", "pods", "services", "nodes", "endpoints"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "apiGroups": ["networking.k8s.io"],
                    "resources": ["networkpolicies"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-binding",
            metadata={"name": NAME, "labels": meta["labels"]},
            role_ref={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role.metadata.name,
            },
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": NAMESPACE}],
            opts=child,
        )
        k8s.apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata=meta,
            spec={
                "selector": {"matchLabels": selector(NAME)},
                "template": {
                    "metadata": {"labels": meta["labels"]},
                    "spec": {
                        "serviceAccountName": account.metadata.name,
                        "hostNetwork": True,
                        "priorityClassName": "system-node-critical",
                        "tolerations": [{"operator": "Exists"}],
                        "containers": [
                            {
                                "name": NAME,
                                "image": versions().image("kube_router"),
                                "args": [
                                    "--run-firewall=true",
                                    "--run-router=false",
                                    "--run-service-proxy=false",
                                    f"--service-cluster-ip-range={SERVICE_RANGE}",
                                    f"--health-port={HEALTH_PORT}",
                                ],
                                "env": [
                                    {
                                        "name": "NODE_NAME",
                                        "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}},
                                    }
                                ],
                                "securityContext": {
                                    "runAsUser": 0,
                                    "allowPrivilegeEscalation": False,
                                    "seccompProfile": {"type": "RuntimeDefault"},
                                    "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "NET_RAW"]},
                                },
                                "resources": resources("50m", "64Mi", "500m", "256Mi"),
                                "livenessProbe": {
                                    "httpGet": {"path": "/healthz", "port": HEALTH_PORT},
                                    "initialDelaySeconds": 10,
                                },
                                "volumeMounts": [{"name": "xtables-lock", "mountPath": XTABLES_LOCK}],
                            }
                        ],
                        "volumes": [
                            {
                                "name": "xtables-lock",
                                "hostPath": {"path": XTABLES_LOCK, "type": "FileOrCreate"},
                            }
                        ],
                    },
                },
            },
            opts=child,
        )
        self.register_outputs({})
