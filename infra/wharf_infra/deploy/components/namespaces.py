"""Namespaces and their NetworkPolicies: default deny everywhere, then the allows each part needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.endpoints import POSTGRES_PORT
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.gateway.operators import ENTRY_POINTS
from wharf_infra.deploy.labels import labels

NAMESPACE_LABEL = "kubernetes.io/metadata.name"
API_SERVER_PORTS = (443, 6443)
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
# Pods with this label are left out of their namespace's allow rules; their component's own
# NetworkPolicy says what they may reach (Superset: Trino and Postgres only).
ISOLATED_LABEL = "wharf.dev/isolated"
KUBE_SYSTEM = "kube-system"  # cluster DNS, and the node agents that enforce the policies
POLICY_COMPONENT = "network-policy"  # the recommended `component` label of what enforces them


def _ports(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _from_namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: name}}}


@dataclass(frozen=True)
class NamespaceRules:
    """What a namespace lets in and out beyond DNS; empty lists allow nothing more."""

    ingress: tuple[dict[str, Any], ...] = ()
    egress: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class NamespacesArgs:
    platform_namespace: str
    operator_namespace: str
    cert_manager_namespace: str
    gateway_namespace: str
    external_egress: bool  # cloud stacks reach S3, OIDC and ACME over HTTPS


def rules(args: NamespacesArgs) -> dict[str, NamespaceRules]:
    """The allow rules of every namespace wharf creates."""
    same: dict[str, Any] = {"podSelector": {}}
    to_api = {"to": ANYWHERE, "ports": _ports(*API_SERVER_PORTS)}
    https_out = ({"to": ANYWHERE, "ports": _ports(443)},) if args.external_egress else ()
    return {
        # Services of the platform talk to each other; the gateway reaches the UIs; the operator
        # manages Postgres instances; runs and the daemon call the API server to launch Jobs.
        args.platform_namespace: NamespaceRules(
            ingress=(
                {"from": [same]},
                {"from": [_from_namespace(args.gateway_namespace)]},
                {"from": [_from_namespace(args.operator_namespace)], "ports": _ports(8000, POSTGRES_PORT)},
                {"from": [_from_namespace(args.cert_manager_namespace)], "ports": _ports(8089)},
            ),
            egress=({"to": [same]}, to_api, *https_out),
        ),
        args.operator_namespace: NamespaceRules(
            ingress=({"from": ANYWHERE, "ports": _ports(9443)},),  # admission webhooks
            egress=(
                to_api,
                {"to": [_from_namespace(args.platform_namespace)], "ports": _ports(8000, POSTGRES_PORT)},
            ),
        ),
        args.cert_manager_namespace: NamespaceRules(
            ingress=({"from": ANYWHERE, "ports": _ports(10250)},),  # webhook
            egress=(to_api, {"to": ANYWHERE, "ports": _ports(80, 443)}),  # ACME and HTTP-01 self-checks
        ),
        args.gateway_namespace: NamespaceRules(
            ingress=({"from": ANYWHERE, "ports": _ports(*ENTRY_POINTS.values())},),  # Traefik's entry points
            egress=({"to": [same]}, to_api, {"to": [_from_namespace(args.platform_namespace)]}),
        ),
    }


# Its former type and name: stacks deployed before the rename keep their namespaces (no replace).
FORMERLY = pulumi.Alias(name="network", type_="wharf:platform:Network")


class Namespaces(Component):
    """Creates the namespaces with their policies; outputs them so every other component depends on them."""

    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: NamespacesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[FORMERLY]))
        super().__init__("Namespaces", name, opts)
        self.namespaces = {}
        for namespace, allowed in rules(args).items():
            ns = k8s.core.v1.Namespace(
                *child_name(namespace, pulumi.ResourceOptions(parent=self)),
                metadata={
                    "name": namespace,
                    "labels": {
                        **labels(namespace, "namespace"),
                        # Every chart's pods meet `restricted` (the cluster tier admits them all).
                        "pod-security.kubernetes.io/enforce": "restricted",
                    },
                },
            )
            self.namespaces[namespace] = ns
            in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[ns])
            self._policy(
                "default-deny",
                namespace,
                {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
                in_namespace,
            )
            self._policy(
                "allow-dns",
                namespace,
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [_from_namespace(KUBE_SYSTEM)],
                            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                        }
                    ],
                },
                in_namespace,
            )
            self._policy(
                "allow-wharf",
                namespace,
                {
                    "podSelector": {
                        "matchExpressions": [{"key": ISOLATED_LABEL, "operator": "DoesNotExist"}]
                    },
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": list(allowed.ingress),
                    "egress": list(allowed.egress),
                },
                in_namespace,
            )
        self.register_outputs({"namespaces": list(self.namespaces)})

    def _policy(self, name: str, namespace: str, spec: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        network_policy_resource(name, namespace, spec, opts)


def network_policy_resource(
    name: str, namespace: str, spec: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """A NetworkPolicy `name` in `namespace` (its Pulumi name carries the namespace)."""
    return k8s.networking.v1.NetworkPolicy(
        *child_name(f"{namespace}-{name}", opts),
        metadata={"name": name, "namespace": namespace, "labels": labels(name, POLICY_COMPONENT)},
        spec=spec,
    )
