"""Dagster: the official chart with the K8sRunLauncher, one user deployment per registry entry.

The chart's bundled Postgres stays off; instance storage is the `dagster` database of the
Postgres component, compute logs go to the `dagster-logs` bucket, finished run Jobs expire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.components.object_store import ObjectStoreFacts
from wharf_infra.components.release import helm_release
from wharf_infra.components.security import container_security, pod_security
from wharf_infra.dagster_storage import POSTGRES_SCHEME
from wharf_infra.images import content_tag, image_name
from wharf_infra.labels import metadata
from wharf_infra.registry import CodeLocation
from wharf_infra.versions import versions

RELEASE = "dagster"
RUN_JOB_TTL_SECONDS = 3600
CODE_ENV_CONFIGMAP = "wharf-code-env"
WEBSERVER_SERVICE = f"{RELEASE}-dagster-webserver"
WEBSERVER_PORT = 80


@dataclass(frozen=True)
class DagsterArgs:
    stack: str
    namespace: str
    locations: tuple[CodeLocation, ...]
    image_registry: str
    image_pull_policy: str
    database_host: str
    database_port: int
    database_password_secret: str
    store: ObjectStoreFacts
    code_env: dict[str, str]
    webserver_replicas: int = 1
    image_tags: dict[str, str] = field(default_factory=dict)  # name -> tag; content tags otherwise


def _image(reference: str, pull_policy: str) -> dict[str, str]:
    repository, tag = reference.rsplit(":", 1)
    return {"repository": repository, "tag": tag, "pullPolicy": pull_policy}


def _s3_secrets(store: ObjectStoreFacts) -> list[dict[str, str]]:
    return [{"name": store.credential_secrets["dagster"]}] if "dagster" in store.credential_secrets else []


def user_deployment(location: CodeLocation, args: DagsterArgs) -> dict[str, Any]:
    tag = args.image_tags.get(location.name) or content_tag(location)
    return {
        "name": location.name,
        "image": {
            "repository": image_name(args.image_registry, location),
            "tag": tag,
            "pullPolicy": args.image_pull_policy,
        },
        "dagsterApiGrpcArgs": ["--module-name", location.module],
        "port": location.port,
        # Runs inherit this deployment's env, secrets and resources: the registry's run resources.
        "includeConfigInLaunchedRuns": {"enabled": True},
        "envConfigMaps": [{"name": CODE_ENV_CONFIGMAP}],
        "envSecrets": _s3_secrets(args.store),
        "resources": location.run_k8s_resources(),
        "podSecurityContext": pod_security(),
        "securityContext": container_security(read_only_root=False),
        "labels": {"app.kubernetes.io/part-of": "wharf", "wharf.dev/code-location": location.name},
    }


def dagster_values(args: DagsterArgs) -> dict[str, Any]:
    core_image = _image(versions().image("dagster"), args.image_pull_policy)
    s3_secrets = _s3_secrets(args.store)
    compute_logs: dict[str, Any] = {
        "bucket": args.store.buckets["dagster-logs"],
        "prefix": "compute-logs",
        "region": args.store.region,
    }
    if args.store.endpoint:
        compute_logs["endpointUrl"] = args.store.endpoint
    values: dict[str, Any] = {
        "global": {"postgresqlSecretName": args.database_password_secret},
        "generatePostgresqlPasswordSecret": False,
        "postgresql": {
            "enabled": False,
            "postgresqlHost": args.database_host,
            "postgresqlUsername": "dagster",
            "postgresqlDatabase": "dagster",
            "postgresqlScheme": POSTGRES_SCHEME,
            "service": {"port": args.database_port},
        },
        "dagsterWebserver": {
            "image": core_image,
            "replicaCount": args.webserver_replicas,
            "envSecrets": s3_secrets,
        },
        "dagsterDaemon": {"image": core_image, "envSecrets": s3_secrets},
        "runLauncher": {
            "type": "K8sRunLauncher",
            "config": {
                "k8sRunLauncher": {
                    "imagePullPolicy": args.image_pull_policy,
                    "jobNamespace": args.namespace,
                    "loadInclusterConfig": True,
                    "envConfigMaps": [{"name": CODE_ENV_CONFIGMAP}],
                    "envSecrets": s3_secrets,
                    "runK8sConfig": {
                        "jobSpecConfig": {"ttlSecondsAfterFinished": RUN_JOB_TTL_SECONDS, "backoffLimit": 0},
                        "podSpecConfig": {"securityContext": pod_security()},
                        "containerConfig": {"securityContext": container_security(read_only_root=False)},
                    },
                }
            },
        },
        "computeLogManager": {"type": "S3ComputeLogManager", "config": {"s3ComputeLogManager": compute_logs}},
        "dagster-user-deployments": {
            "enabled": True,
            "enableSubchart": True,
            "deployments": [user_deployment(loc, args) for loc in args.locations],
        },
    }
    if "dagster" in args.store.service_account_annotations:
        annotations = args.store.service_account_annotations["dagster"]
        values["serviceAccount"] = {"create": True, "name": "dagster", "annotations": annotations}
        values["dagster-user-deployments"]["serviceAccount"] = {
            "create": True,
            "name": "dagster-user-code",
            "annotations": annotations,
        }
    return values


class Dagster(pulumi.ComponentResource):
    """Outputs `webserver` (Service name, port) for the gateway."""

    webserver: tuple[str, int]

    def __init__(self, name: str, args: DagsterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wharf:platform:Dagster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env = k8s.core.v1.ConfigMap(
            CODE_ENV_CONFIGMAP,
            metadata=metadata(CODE_ENV_CONFIGMAP, args.namespace, "orchestration"),
            data=args.code_env,
            opts=child,
        )
        helm_release(
            "dagster",
            RELEASE,
            args.namespace,
            args.stack,
            dagster_values(args),
            pulumi.ResourceOptions(parent=self, depends_on=[env]),
        )
        self.webserver = (WEBSERVER_SERVICE, WEBSERVER_PORT)
        self.register_outputs({"webserver": WEBSERVER_SERVICE})
