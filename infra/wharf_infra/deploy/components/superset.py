"""Superset, the dashboards over the marts: a Deployment of wharf's Superset image, its metadata in
the platform's Postgres (CNPG), and a Job importing the dashboards under `dashboards/`.

Not the official chart: none is at hand in a copy consistent with 6.1.0, and it brings Bitnami's
Postgres and Redis. No Redis here (see `contract/superset.py`: the metastore cache, no Celery).
Superset's pods are isolated from the rest of the platform namespace: they reach Trino and
Postgres only, and only the gateway and the dashboards Job reach them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.dashboards import bundles
from wharf_infra.contract.endpoints import POSTGRES_CLUSTER, POSTGRES_PORT, TRINO_SERVICE, Endpoints
from wharf_infra.contract.superset import (
    ADMIN_ENV,
    DATABASE_PASSWORD_ENV,
    SECRET_KEY_ENV,
    SUPERSET_ADMIN,
    initialise_script,
    server_command,
    superset_config,
)
from wharf_infra.contract.superset_api import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV, URL_ENV
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.database_wait import database_wait
from wharf_infra.deploy.components.namespaces import ISOLATED_LABEL, network_policy_resource
from wharf_infra.deploy.components.secrets import generated_password, secret, secret_env
from wharf_infra.deploy.components.security import container_security, pod_security, resources
from wharf_infra.deploy.labels import labels, metadata, selector

NAME = "superset"
PORT = 8088
COMPONENT = "dashboards"
IMPORTER = "superset-dashboards"
CONFIG_MAP = "superset-config"
SECRET = "superset-login"  # the admin login and the key that signs sessions
CONFIG_DIR = "/etc/superset"
BUNDLES_DIR = "/etc/superset/dashboards"
HOME = "/var/lib/superset"
TRINO_PODS = {"app.kubernetes.io/name": "trino", "app.kubernetes.io/instance": TRINO_SERVICE[0]}
POSTGRES_PODS = {"cnpg.io/cluster": POSTGRES_CLUSTER}


@dataclass(frozen=True)
class SupersetArgs:
    namespace: str
    endpoints: Endpoints
    database_secret: str  # Superset's Postgres role (`username`, `password`), from the Postgres component
    gateway_namespace: str
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`
    # What the dashboards import waits for: it asks Trino for its catalogs (SHOW CATALOGS), and
    # gave up after its retries while Trino was still starting on kind.
    trino: pulumi.Resource | None = None


def _digest(*texts: str) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]


def _pod(
    name: str, containers: list[dict[str, Any]], version: str, source: str, **spec: Any
) -> dict[str, Any]:
    """A pod template; `source` (a digest of what it mounts) rolls or re-runs it when that changes."""
    return {
        "metadata": {
            "labels": {**labels(name, COMPONENT, version), ISOLATED_LABEL: "true"},
            "annotations": {"wharf/source": source},
        },
        "spec": {
            "securityContext": pod_security(),
            "automountServiceAccountToken": False,
            "containers": containers,
            **spec,
        },
    }


def _container(name: str, image: str, **spec: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "securityContext": container_security(), **spec}


def network_policy(namespace: str, gateway_namespace: str) -> dict[str, Any]:
    """Superset's pods: in from the gateway and the dashboards Job; out to Trino and Postgres."""
    return {
        "podSelector": {"matchLabels": selector(NAME)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": gateway_namespace}
                        }
                    },
                    {"podSelector": {"matchLabels": selector(IMPORTER)}},
                ],
                "ports": [{"protocol": "TCP", "port": PORT}],
            }
        ],
        "egress": [
            {
                "to": [{"podSelector": {"matchLabels": TRINO_PODS}}],
                "ports": [{"protocol": "TCP", "port": TRINO_SERVICE[1]}],
            },
            {
                "to": [{"podSelector": {"matchLabels": POSTGRES_PODS}}],
                "ports": [{"protocol": "TCP", "port": POSTGRES_PORT}],
            },
        ],
    }


def importer_policy() -> dict[str, Any]:
    """The dashboards Job's pod: out to Superset only."""
    return {
        "podSelector": {"matchLabels": selector(IMPORTER)},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [
            {
                "to": [{"podSelector": {"matchLabels": selector(NAME)}}],
                "ports": [{"protocol": "TCP", "port": PORT}],
            }
        ],
    }


class Superset(Component):
    """Outputs `service`: (name, port) of Superset's web server, for the gateway's route."""

    service: tuple[str, int]

    def __init__(self, name: str, args: SupersetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Superset", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        image = args.images.reference("superset")
        version = image.rsplit(":", 1)[-1]
        ns = args.namespace
        secret(
            SECRET,
            ns,
            COMPONENT,
            {
                "username": SUPERSET_ADMIN,
                "password": generated_password(f"{name}-admin", child),
                "secret-key": generated_password(f"{name}-secret-key", child, length=48),
            },
            child,
        )
        dashboards = bundles(args.endpoints)
        settings_file = superset_config(args.endpoints)
        config = k8s.core.v1.ConfigMap(
            *child_name(CONFIG_MAP, child),
            metadata=metadata(CONFIG_MAP, ns, COMPONENT),
            data={"superset_config.py": settings_file} | {f"{b.slug}.sha256": b.digest for b in dashboards},
            binary_data={f"{b.slug}.zip": base64.b64encode(b.zipped).decode() for b in dashboards},
        )
        env = [
            {"name": "SUPERSET_CONFIG_PATH", "value": f"{CONFIG_DIR}/superset_config.py"},
            {"name": "SUPERSET_HOME", "value": HOME},
            *secret_env(SECRET, {SECRET_KEY_ENV: "secret-key"}),
            *secret_env(args.database_secret, {DATABASE_PASSWORD_ENV: "password"}),
        ]
        mounts = [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "home", "mountPath": HOME},
            {"name": "tmp", "mountPath": "/tmp"},
        ]
        volumes = [
            {"name": "config", "configMap": {"name": CONFIG_MAP}},
            {"name": "home", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
        ]
        admin_env = secret_env(SECRET, dict(zip(ADMIN_ENV, ("username", "password"), strict=True)))
        deployment = k8s.apps.v1.Deployment(
            *child_name(NAME, pulumi.ResourceOptions(parent=self, depends_on=[config])),
            metadata=metadata(NAME, ns, COMPONENT, version),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector(NAME)},
                "template": _pod(
                    NAME,
                    [
                        _container(
                            NAME,
                            image,
                            command=server_command(f"0.0.0.0:{PORT}"),
                            env=env,
                            ports=[{"name": "http", "containerPort": PORT}],
                            volumeMounts=mounts,
                            readinessProbe={
                                "httpGet": {"path": "/health", "port": "http"},
                                "periodSeconds": 10,
                            },
                            livenessProbe={
                                "httpGet": {"path": "/health", "port": "http"},
                                "initialDelaySeconds": 60,
                                "periodSeconds": 20,
                            },
                            resources=resources("250m", "256Mi", "1", "1Gi"),
                        )
                    ],
                    version,
                    _digest(settings_file),
                    initContainers=[
                        database_wait(args.images, args.endpoints, "superset"),
                        _container(
                            "initialise",
                            image,
                            command=["/bin/sh", "-c", initialise_script()],
                            env=env + admin_env,
                            volumeMounts=mounts,
                            resources=resources("250m", "256Mi", "1", "1Gi"),
                        ),
                    ],
                    volumes=volumes,
                ),
            },
        )
        service = k8s.core.v1.Service(
            *child_name(NAME, child),
            metadata=metadata(NAME, ns, COMPONENT, version),
            spec={
                "selector": selector(NAME),
                "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
            },
        )
        for policy, spec in (
            (NAME, network_policy(ns, args.gateway_namespace)),
            (IMPORTER, importer_policy()),
        ):
            network_policy_resource(policy, ns, spec, child)
        # Replaced (so run again) whenever a dashboard's files change: their digests annotate the pod.
        after = [deployment, service, config, *([args.trino] if args.trino else [])]
        k8s.batch.v1.Job(
            *child_name(IMPORTER, pulumi.ResourceOptions(parent=self, depends_on=after)),
            metadata=metadata(IMPORTER, ns, COMPONENT, version),
            spec={
                "backoffLimit": 6,
                "ttlSecondsAfterFinished": 3600,
                "template": _pod(
                    IMPORTER,
                    [
                        _container(
                            "import",
                            image,
                            command=["python", "/opt/superset/superset_api.py", BUNDLES_DIR],
                            env=[
                                {"name": URL_ENV, "value": f"http://{NAME}.{ns}.svc:{PORT}"},
                                *secret_env(
                                    SECRET, {ADMIN_USER_ENV: "username", ADMIN_PASSWORD_ENV: "password"}
                                ),
                            ],
                            volumeMounts=[
                                {"name": "dashboards", "mountPath": BUNDLES_DIR, "readOnly": True},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                            resources=resources("50m", "32Mi", "500m", "128Mi"),
                        )
                    ],
                    version,
                    _digest(*(b.digest for b in dashboards)),
                    restartPolicy="OnFailure",
                    volumes=[
                        {
                            "name": "dashboards",
                            "configMap": {
                                "name": CONFIG_MAP,
                                "items": [
                                    {"key": f"{b.slug}.{kind}", "path": f"{b.slug}.{kind}"}
                                    for b in dashboards
                                    for kind in ("zip", "sha256")
                                ],
                            },
                        },
                        {"name": "tmp", "emptyDir": {}},
                    ],
                ),
            },
        )
        self.service = (NAME, PORT)
        self.register_outputs({"service": NAME})
