"""Marquez, the lineage store: API and web as Deployments (upstream publishes no chart).

The API runs from the contract's `config.yml` (mounted, named by `MARQUEZ_CONFIG`): without it the
image falls back to its bundled development config, with its own database login and search on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from wharf_infra.contract.artefacts import MARQUEZ_DATABASE_ENV, marquez_config
from wharf_infra.contract.endpoints import MARQUEZ_SERVICE, Endpoints
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.database_wait import database_wait
from wharf_infra.deploy.components.secrets import secret_env
from wharf_infra.deploy.components.security import container_security, pod_security, resources
from wharf_infra.deploy.labels import labels, metadata, selector

API, API_PORT = MARQUEZ_SERVICE
WEB = "marquez-web"
CONFIG_MAP = "marquez-config"
CONFIG_DIR = "/etc/marquez"
ADMIN_PORT = 5001
WEB_PORT = 3000


@dataclass(frozen=True)
class MarquezArgs:
    namespace: str
    endpoints: Endpoints
    database_secret: str
    replicas: int = 1
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`


def _deployment(
    name: str,
    namespace: str,
    image: str,
    replicas: int,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    init_containers: tuple[dict[str, Any], ...] = (),
) -> k8s.apps.v1.Deployment:
    version = image.rsplit(":", 1)[-1]
    logical, opts = child_name(name, opts)
    return k8s.apps.v1.Deployment(
        logical,
        metadata=metadata(name, namespace, "lineage", version),
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": selector(name)},
            "template": {
                "metadata": {"labels": labels(name, "lineage", version)},
                "spec": {
                    "securityContext": pod_security(),
                    "automountServiceAccountToken": False,
                    "volumes": volumes,
                    "initContainers": list(init_containers),
                    "containers": [
                        {"name": name, "image": image, "securityContext": container_security(), **container}
                    ],
                },
            },
        },
        opts=opts,
    )


def _service(name: str, namespace: str, ports: dict[str, int], opts: pulumi.ResourceOptions) -> None:
    logical, opts = child_name(name, opts)
    k8s.core.v1.Service(
        logical,
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


class Marquez(Component):
    def __init__(self, name: str, args: MarquezArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Marquez", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        config_name, config_opts = child_name(CONFIG_MAP, child)
        config = k8s.core.v1.ConfigMap(
            config_name,
            metadata=metadata(CONFIG_MAP, args.namespace, "lineage"),
            data={"config.yml": yaml.safe_dump(marquez_config(args.endpoints, API_PORT, ADMIN_PORT))},
            opts=config_opts,
        )
        tmp = {"name": "tmp", "emptyDir": {}}
        _deployment(
            API,
            args.namespace,
            args.images.reference("marquez"),
            args.replicas,
            {
                "env": [
                    {"name": "MARQUEZ_CONFIG", "value": f"{CONFIG_DIR}/config.yml"},
                    *secret_env(
                        args.database_secret,
                        dict(zip(MARQUEZ_DATABASE_ENV, ("username", "password"), strict=True)),
                    ),
                ],
                "ports": [
                    {"name": "http", "containerPort": API_PORT},
                    {"name": "admin", "containerPort": ADMIN_PORT},
                ],
                "volumeMounts": [
                    {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
                "readinessProbe": {"httpGet": {"path": "/healthcheck", "port": "admin"}, "periodSeconds": 10},
                "livenessProbe": {
                    "httpGet": {"path": "/healthcheck", "port": "admin"},
                    "initialDelaySeconds": 60,
                },
                "resources": resources("250m", "384Mi", "1", "1Gi"),
            },
            [{"name": "config", "configMap": {"name": CONFIG_MAP}}, tmp],
            pulumi.ResourceOptions(parent=self, depends_on=[config]),
            (database_wait(args.images, args.endpoints, "marquez"),),
        )
        _service(API, args.namespace, {"http": API_PORT, "admin": ADMIN_PORT}, child)
        _deployment(
            WEB,
            args.namespace,
            args.images.reference("marquez_web"),
            args.replicas,
            {
                "env": [
                    {"name": "MARQUEZ_HOST", "value": API},
                    {"name": "MARQUEZ_PORT", "value": str(API_PORT)},
                    {"name": "WEB_PORT", "value": str(WEB_PORT)},
                ],
                "ports": [{"name": "http", "containerPort": WEB_PORT}],
                "securityContext": container_security(read_only_root=False),  # the web server writes
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                "resources": resources("50m", "128Mi", "500m", "256Mi"),
            },
            [tmp],
            child,
        )
        _service(WEB, args.namespace, {"http": WEB_PORT}, child)
        self.register_outputs({})
