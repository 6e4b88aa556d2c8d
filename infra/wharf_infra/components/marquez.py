"""Marquez, the lineage store: API and web as Deployments (upstream publishes no chart)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.components.security import container_security, pod_security, resources
from wharf_infra.labels import labels, metadata, selector
from wharf_infra.versions import versions

API = "marquez"
WEB = "marquez-web"
API_PORT = 5000
ADMIN_PORT = 5001
WEB_PORT = 3000


@dataclass(frozen=True)
class MarquezArgs:
    namespace: str
    database_host: str
    database_port: int
    database_secret: str
    replicas: int = 1


def _deployment(
    name: str,
    namespace: str,
    image: str,
    replicas: int,
    container: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.Deployment:
    version = image.rsplit(":", 1)[-1]
    return k8s.apps.v1.Deployment(
        name,
        metadata=metadata(name, namespace, "lineage", version),
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": selector(name)},
            "template": {
                "metadata": {"labels": labels(name, "lineage", version)},
                "spec": {
                    "securityContext": pod_security(),
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "securityContext": container_security(read_only_root=False),
                            **container,
                        }
                    ],
                },
            },
        },
        opts=opts,
    )


def _service(name: str, namespace: str, ports: dict[str, int], opts: pulumi.ResourceOptions) -> None:
    k8s.core.v1.Service(
        name,
        metadata=metadata(name, namespace, "lineage"),
        spec={
            "selector": selector(name),
            "ports": [
                {"name": port_name, "port": port, "targetPort": port_name}
                for port_name, port in ports.items()
            ],
        },
        opts=opts,
    )


class Marquez(pulumi.ComponentResource):
    """Outputs `api_url`, where OpenLineage events are posted."""

    api_url: str

    def __init__(self, name: str, args: MarquezArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wharf:platform:Marquez", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        database_env = [
            {"name": "POSTGRES_HOST", "value": args.database_host},
            {"name": "POSTGRES_PORT", "value": str(args.database_port)},
            {"name": "POSTGRES_DB", "value": "marquez"},
            {
                "name": "POSTGRES_USER",
                "valueFrom": {"secretKeyRef": {"name": args.database_secret, "key": "username"}},
            },
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": args.database_secret, "key": "password"}},
            },
        ]
        _deployment(
            API,
            args.namespace,
            versions().image("marquez"),
            args.replicas,
            {
                "env": [
                    {"name": "MARQUEZ_PORT", "value": str(API_PORT)},
                    {"name": "MARQUEZ_ADMIN_PORT", "value": str(ADMIN_PORT)},
                    {"name": "MIGRATE_ON_STARTUP", "value": "true"},
                    *database_env,
                ],
                "ports": [
                    {"name": "http", "containerPort": API_PORT},
                    {"name": "admin", "containerPort": ADMIN_PORT},
                ],
                "readinessProbe": {"httpGet": {"path": "/healthcheck", "port": "admin"}, "periodSeconds": 10},
                "livenessProbe": {
                    "httpGet": {"path": "/healthcheck", "port": "admin"},
                    "initialDelaySeconds": 60,
                },
                "resources": resources("250m", "384Mi", "1", "1Gi"),
            },
            child,
        )
        _service(API, args.namespace, {"http": API_PORT, "admin": ADMIN_PORT}, child)
        _deployment(
            WEB,
            args.namespace,
            versions().image("marquez_web"),
            args.replicas,
            {
                "env": [
                    {"name": "MARQUEZ_HOST", "value": API},
                    {"name": "MARQUEZ_PORT", "value": str(API_PORT)},
                    {"name": "WEB_PORT", "value": str(WEB_PORT)},
                ],
                "ports": [{"name": "http", "containerPort": WEB_PORT}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                "resources": resources("50m", "128Mi", "500m", "256Mi"),
            },
            child,
        )
        _service(WEB, args.namespace, {"http": WEB_PORT}, child)
        self.api_url = f"http://{API}.{args.namespace}.svc:{API_PORT}"
        self.register_outputs({"api_url": self.api_url})
