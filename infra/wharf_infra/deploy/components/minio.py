"""MinIO for the local stack: a single-node StatefulSet, its buckets, and a user per service."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.facts import (
    BUCKETS,
    MINIO_REGION,
    MINIO_ROOT_USER,
    S3_SERVICES,
    minio_bucket_arns,
    s3_policy,
    s3_principal,
)
from wharf_infra.contract.facts import MINIO_ROOT_SECRET as ROOT_SECRET
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.object_store import COMPONENT, ObjectStoreFacts
from wharf_infra.deploy.components.secrets import generated_password, secret, secret_env
from wharf_infra.deploy.components.security import container_security, pod_security, resources
from wharf_infra.deploy.labels import labels, metadata, selector

NAME = "wharf-minio"
API_PORT = 9000
CONSOLE_PORT = 9001


def setup_script() -> str:
    """The bucket Job's shell script: buckets, one policy and one user per service, idempotent."""
    lines = [
        "set -eu",
        f'mc alias set wharf "http://$MINIO_HOST:{API_PORT}" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"',
    ]
    lines += [f"mc mb --ignore-existing wharf/{bucket}" for bucket in BUCKETS]
    for service in S3_SERVICES:
        upper = service.upper()
        lines += [
            f"printf '%s' '{s3_policy(minio_bucket_arns(), service)}' > /tmp/{service}.json",
            f"mc admin policy create wharf {s3_principal(service)} /tmp/{service}.json",
            f'mc admin user add wharf "${upper}_ACCESS_KEY" "${upper}_SECRET_KEY"',
            f'mc admin policy attach wharf {s3_principal(service)} --user "${upper}_ACCESS_KEY" || true',
        ]
    return "\n".join(lines)


def _container_spec(name: str, image: str, **spec: object) -> dict[str, object]:
    return {
        "name": name,
        "image": image,
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        **spec,
    }


@dataclass(frozen=True)
class MinioArgs:
    namespace: str
    storage: str
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`


class Minio(Component):
    """Outputs `facts`: the endpoint, buckets and per-service credential Secrets."""

    facts: ObjectStoreFacts

    def __init__(self, name: str, args: MinioArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Minio", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        image = args.images.reference("minio")
        version = image.rsplit(":", 1)[-1]
        secret(
            ROOT_SECRET,
            args.namespace,
            COMPONENT,
            {
                "MINIO_ROOT_USER": MINIO_ROOT_USER,
                "MINIO_ROOT_PASSWORD": generated_password("minio-root", child),
            },
            child,
        )
        credential_secrets = {}
        for service in S3_SERVICES:
            credential_secrets[service] = f"wharf-s3-{service}"
            secret(
                credential_secrets[service],
                args.namespace,
                COMPONENT,
                {
                    "AWS_ACCESS_KEY_ID": f"wharf-{service}",
                    "AWS_SECRET_ACCESS_KEY": generated_password(f"minio-{service}", child),
                },
                child,
            )

        service = k8s.core.v1.Service(
            *child_name(NAME, child),
            metadata=metadata(NAME, args.namespace, COMPONENT, version),
            spec={
                "selector": selector(NAME),
                "ports": [
                    {"name": "api", "port": API_PORT, "targetPort": "api"},
                    {"name": "console", "port": CONSOLE_PORT, "targetPort": "console"},
                ],
            },
        )
        server = _container_spec(
            "minio",
            image,
            args=["server", "/data", "--console-address", f":{CONSOLE_PORT}"],
            envFrom=[{"secretRef": {"name": ROOT_SECRET}}],
            env=[{"name": "MINIO_UPDATE", "value": "off"}],
            ports=[
                {"name": "api", "containerPort": API_PORT},
                {"name": "console", "containerPort": CONSOLE_PORT},
            ],
            readinessProbe={"httpGet": {"path": "/minio/health/ready", "port": "api"}},
            livenessProbe={"httpGet": {"path": "/minio/health/live", "port": "api"}, "periodSeconds": 20},
            resources=resources("100m", "256Mi", "1", "1Gi"),
        )
        server["volumeMounts"] = [
            {"name": "data", "mountPath": "/data"},
            {"name": "tmp", "mountPath": "/tmp"},
        ]
        statefulset = k8s.apps.v1.StatefulSet(
            *child_name(NAME, child),
            metadata=metadata(NAME, args.namespace, COMPONENT, version),
            spec={
                "serviceName": NAME,
                "replicas": 1,
                "selector": {"matchLabels": selector(NAME)},
                "template": {
                    "metadata": {"labels": labels(NAME, COMPONENT, version)},
                    "spec": {
                        "securityContext": pod_security(1000, 1000),
                        "automountServiceAccountToken": False,
                        "containers": [server],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": args.storage}},
                        },
                    }
                ],
            },
        )
        setup_env: list[dict[str, object]] = [
            {"name": "MINIO_HOST", "value": f"{NAME}.{args.namespace}.svc"},
            {"name": "MC_CONFIG_DIR", "value": "/tmp/mc"},
        ]
        for svc in S3_SERVICES:
            setup_env += secret_env(
                credential_secrets[svc],
                {
                    f"{svc.upper()}_ACCESS_KEY": "AWS_ACCESS_KEY_ID",
                    f"{svc.upper()}_SECRET_KEY": "AWS_SECRET_ACCESS_KEY",
                },
            )
        setup = f"{NAME}-setup"
        k8s.batch.v1.Job(
            *child_name(setup, pulumi.ResourceOptions(parent=self, depends_on=[statefulset, service])),
            metadata=metadata(setup, args.namespace, COMPONENT, version),
            spec={
                "backoffLimit": 6,
                "ttlSecondsAfterFinished": 3600,
                "template": {
                    "metadata": {"labels": labels(setup, COMPONENT, version)},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "securityContext": pod_security(1000, 1000),
                        "automountServiceAccountToken": False,
                        "containers": [
                            _container_spec(
                                "setup",
                                image,  # the server image ships `mc`
                                command=["/bin/sh", "-c", setup_script()],
                                envFrom=[{"secretRef": {"name": ROOT_SECRET}}],
                                env=setup_env,
                                resources=resources("50m", "64Mi", "200m", "256Mi"),
                            )
                        ],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
        )
        self.facts = ObjectStoreFacts(
            endpoint=f"http://{NAME}.{args.namespace}.svc:{API_PORT}",
            region=MINIO_REGION,
            buckets={b: b for b in BUCKETS},
            credential_secrets=credential_secrets,
            console_service=(NAME, CONSOLE_PORT),
        )
        self.register_outputs({"endpoint": self.facts.endpoint})
