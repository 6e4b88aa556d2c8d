"""Dagster: the official chart with the K8sRunLauncher, one user deployment per registry entry.

The chart's bundled Postgres stays off. The instance (storage, run coordinator, monitoring,
retries, retention, compute logs) is the contract's typed `DagsterInstance`, rendered here as the
chart's values; the native stack renders the same instance as its `dagster.yaml`. Finished run
Jobs expire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.artefacts import COMPUTE_LOG_MANAGER, RUN_COORDINATOR, DagsterInstance
from wharf_infra.core.image_tags import Images, content_tag, image_name
from wharf_infra.core.registry import CodeLocation
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.object_store import ObjectStoreFacts
from wharf_infra.deploy.components.postgres import DAGSTER_PASSWORD_KEY
from wharf_infra.deploy.components.release import Charts, release_with_values
from wharf_infra.deploy.components.security import container_security, pod_security
from wharf_infra.deploy.helm_values import chart_values, deep_merge
from wharf_infra.deploy.labels import metadata

RELEASE = "dagster"
RUN_JOB_TTL_SECONDS = 3600
CODE_ENV_CONFIGMAP = "wharf-code-env"
WEBSERVER_SERVICE = f"{RELEASE}-dagster-webserver"
WEBSERVER_PORT = 80
# The accounts Dagster's pods run as: the webserver, daemon and migrations as the first; the code
# servers and the run pods they launch (`includeConfigInLaunchedRuns`) as the second. On S3 the
# Dagster IAM role trusts exactly these.
SERVICE_ACCOUNTS = (RELEASE, f"{RELEASE}-user-code")
# The chart's names for what the migration reads: the instance's dagster.yaml and the webserver's env.
INSTANCE_CONFIGMAP = f"{RELEASE}-instance"
WEBSERVER_ENV_CONFIGMAP = f"{RELEASE}-webserver-env"
DAGSTER_HOME = "/opt/dagster/dagster_home"  # the chart's global.dagsterHome
MIGRATE_JOB = f"{RELEASE}-instance-migrate"


@dataclass(frozen=True)
class DagsterArgs:
    charts: Charts
    namespace: str
    locations: tuple[CodeLocation, ...]
    image_registry: str
    image_pull_policy: str
    instance: DagsterInstance  # the contract's instance; the run launcher is added here
    database_password_secret: str
    store: ObjectStoreFacts
    code_env: dict[str, str]
    webserver_replicas: int = 1
    image_tags: dict[str, str] = field(default_factory=dict)  # name -> tag; content tags otherwise
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`


def _image(name: str, args: DagsterArgs) -> dict[str, str]:
    return {**args.images.values(name), "pullPolicy": args.image_pull_policy}


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


def instance_values(instance: DagsterInstance) -> dict[str, Any]:
    """The chart values that make the chart render `instance` as `dagster_yaml` does natively."""
    policy = instance.policy
    threads = {"useThreads": True, "numWorkers": policy.daemon_workers}
    s3_logs: dict[str, Any] = {
        "bucket": instance.logs_bucket,
        "prefix": instance.logs_prefix,
        "region": instance.logs_region,
        "verify": True,
    }
    if instance.logs_endpoint:
        s3_logs["endpointUrl"] = instance.logs_endpoint
    return {
        "telemetry": {"enabled": instance.telemetry},
        "postgresql": {
            "enabled": False,
            "postgresqlHost": instance.postgres_host,
            "postgresqlUsername": instance.user,
            "postgresqlDatabase": instance.database,
            "postgresqlScheme": instance.postgres_scheme,
            "postgresqlParams": {},
            "service": {"port": instance.postgres_port},
        },
        "dagsterDaemon": {
            "runCoordinator": {
                "enabled": True,
                "type": RUN_COORDINATOR,
                "config": {
                    "queuedRunCoordinator": {
                        "maxConcurrentRuns": policy.max_concurrent_runs,
                        "tagConcurrencyLimits": instance.tag_concurrency_limits(),
                        "dequeueUseThreads": True,
                        "dequeueNumWorkers": policy.daemon_workers,
                    }
                },
            },
            "runMonitoring": {
                "enabled": True,
                "startTimeoutSeconds": policy.start_timeout_seconds,
                "pollIntervalSeconds": policy.monitoring_poll_seconds,
                "maxResumeRunAttempts": 0,
                "freeSlotsAfterRunEndSeconds": 0,
            },
            "runRetries": {"enabled": True, "maxRetries": policy.max_run_retries},
            "sensors": threads,
            "schedules": dict(threads),
        },
        "retention": {
            "enabled": True,
            "schedule": {"purgeAfterDays": policy.failed_ticks_kept_days},
            "sensor": {"purgeAfterDays": instance.sensor_ticks_kept()},
            "autoMaterialize": {"purgeAfterDays": instance.automation_ticks_kept()},
        },
        "computeLogManager": {"type": COMPUTE_LOG_MANAGER, "config": {"s3ComputeLogManager": s3_logs}},
    }


def dagster_values(args: DagsterArgs) -> dict[str, Any]:
    core_image = _image("dagster", args)
    client, client_tag = args.images.parts("postgres_client")
    s3_secrets = _s3_secrets(args.store)
    values: dict[str, Any] = {
        "global": {"postgresqlSecretName": args.database_password_secret},
        "generatePostgresqlPasswordSecret": False,
        "busybox": {"image": _image("busybox", args)},
        # The init containers that wait for the database run this image: pinned, like every other.
        "postgresql": {
            "image": {
                "registry": client.split("/", 1)[0],
                "repository": client.split("/", 1)[1],
                "tag": client_tag,
                "pullPolicy": args.image_pull_policy,
            }
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
        "dagster-user-deployments": {
            "enabled": True,
            "enableSubchart": True,
            "deployments": [user_deployment(loc, args) for loc in args.locations],
        },
    }
    if "dagster" in args.store.service_account_annotations:
        annotations = args.store.service_account_annotations["dagster"]
        server, user_code = SERVICE_ACCOUNTS
        values["serviceAccount"] = {"create": True, "name": server, "annotations": annotations}
        values["dagster-user-deployments"]["serviceAccount"] = {
            "create": True,
            "name": user_code,
            "annotations": annotations,
        }
    return deep_merge(instance_values(args.instance), values)


def migrate_job_spec(values: dict[str, Any], args: DagsterArgs) -> dict[str, Any]:
    """`dagster instance migrate` as the chart's own migration Job runs it (same image, account,
    instance and env), owned by Pulumi instead: the chart's Job has a fixed name and an immutable
    template, so the first upgrade to a new image failed to patch it and rolled the release back."""
    webserver = values["dagsterWebserver"]
    return {
        "backoffLimit": 6,
        "template": {
            "metadata": {"labels": metadata(MIGRATE_JOB, args.namespace, "orchestration")["labels"]},
            "spec": {
                "serviceAccountName": SERVICE_ACCOUNTS[0],
                "automountServiceAccountToken": True,  # loading the instance loads its run launcher
                "securityContext": webserver["podSecurityContext"],
                "restartPolicy": "OnFailure",  # until the database answers
                "containers": [
                    {
                        "name": "migrate",
                        "image": args.images.reference("dagster"),
                        "imagePullPolicy": args.image_pull_policy,
                        "command": ["dagster", "instance", "migrate"],
                        "env": [
                            {
                                "name": "DAGSTER_PG_PASSWORD",
                                "valueFrom": {
                                    "secretKeyRef": {
                                        "name": args.database_password_secret,
                                        "key": DAGSTER_PASSWORD_KEY,
                                    }
                                },
                            }
                        ],
                        "envFrom": [
                            {"configMapRef": {"name": WEBSERVER_ENV_CONFIGMAP}},
                            *({"secretRef": secret} for secret in webserver["envSecrets"]),
                        ],
                        "volumeMounts": [
                            {
                                "name": "instance",
                                "mountPath": f"{DAGSTER_HOME}/dagster.yaml",
                                "subPath": "dagster.yaml",
                            }
                        ],
                        "securityContext": webserver["securityContext"],
                        "resources": webserver["resources"],
                    }
                ],
                "volumes": [{"name": "instance", "configMap": {"name": INSTANCE_CONFIGMAP}}],
            },
        },
    }


class Dagster(Component):
    """Outputs `webserver` (Service name, port) for the gateway."""

    webserver: tuple[str, int]

    def __init__(self, name: str, args: DagsterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Dagster", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        env = k8s.core.v1.ConfigMap(
            *child_name(CODE_ENV_CONFIGMAP, child),
            metadata=metadata(CODE_ENV_CONFIGMAP, args.namespace, "orchestration"),
            data=args.code_env,
        )
        values = chart_values("dagster", args.charts.stack, dagster_values(args))
        release = release_with_values(
            "dagster",
            RELEASE,
            args.namespace,
            args.charts,
            values,
            pulumi.ResourceOptions(parent=self, depends_on=[env]),
        )
        # A Job's pod template cannot change: a new Dagster image replaces the Job, so the
        # migration runs once per image.
        k8s.batch.v1.Job(
            *child_name(
                MIGRATE_JOB,
                pulumi.ResourceOptions(parent=self, depends_on=[release], delete_before_replace=True),
            ),
            metadata=metadata(MIGRATE_JOB, args.namespace, "orchestration"),
            spec=migrate_job_spec(values, args),
        )
        self.webserver = (WEBSERVER_SERVICE, WEBSERVER_PORT)
        self.register_outputs({"webserver": WEBSERVER_SERVICE})
