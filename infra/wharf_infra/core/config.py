"""Stack configuration as typed models, validated on load with errors that name the bad key.

Each program reads one structured key (`wharf-cluster:cluster`, `wharf-platform:platform`) from its
`Pulumi.<stack>.yaml`. Nothing secret lives there: passwords are generated, and the one secret a
user supplies (the OIDC client secret on cloud stacks) is a Pulumi secret of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from wharf_infra.core.image_tags import Images, ImageSource
from wharf_infra.core.paths import CLUSTER_PROGRAM, PLATFORM_PROGRAM

Model = TypeVar("Model", bound=BaseModel)


class ConfigError(ValueError):
    """Stack configuration is invalid; the message lists each bad key and what it should be."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


# -- the cluster program ------------------------------------------------------------------------


class NodeGroup(_Model):
    instance_type: str = "m7i.xlarge"
    min_size: int = Field(default=2, ge=1)
    desired_size: int = Field(default=3, ge=1)
    max_size: int = Field(default=6, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> NodeGroup:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError("needs minSize <= desiredSize <= maxSize")
        return self


class EksSettings(_Model):
    region: str
    kubernetes_version: str = "1.34"
    node_group: NodeGroup = NodeGroup()


NodeImageSource = Literal["upstream", "built", "auto"]


class ClusterConfig(_Model):
    provider: Literal["kind", "eks"]
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,38}$")
    eks: EksSettings | None = None
    # kind: the node image pinned upstream (pulled), wharf's build of it (`make kind-node`, named
    # under `imageRegistry`) for machines no container registry answers, or `auto`: the upstream
    # one where Docker has it or can pull it, else wharf's build.
    node_image: NodeImageSource = "auto"
    image_registry: str = "wharf.local"

    @model_validator(mode="after")
    def _eks_needs_settings(self) -> ClusterConfig:
        if self.provider == "eks" and self.eks is None:
            raise ValueError("provider 'eks' needs an 'eks' block (region, nodeGroup)")
        return self


# -- the platform program -----------------------------------------------------------------------


class TlsSettings(_Model):
    issuer: Literal["self-signed", "acme"]
    acme_email: str | None = None
    acme_server: str = "https://acme-v02.api.letsencrypt.org/directory"

    @model_validator(mode="after")
    def _acme_needs_email(self) -> TlsSettings:
        if self.issuer == "acme" and not self.acme_email:
            raise ValueError("issuer 'acme' needs acmeEmail")
        return self


class OidcSettings(_Model):
    issuer: str = Field(pattern=r"^https://")
    client_id: str


class AuthSettings(_Model):
    mode: Literal["basic", "oidc"]
    basic_users: tuple[str, ...] = ("admin",)
    oidc: OidcSettings | None = None

    @model_validator(mode="after")
    def _oidc_needs_settings(self) -> AuthSettings:
        if self.mode == "oidc" and self.oidc is None:
            raise ValueError("mode 'oidc' needs an 'oidc' block (issuer, clientId)")
        return self


class PostgresSettings(_Model):
    instances: int = Field(default=1, ge=1, le=5)
    storage: str = "5Gi"
    memory: str = "1Gi"  # request per instance; the limit is twice it


class ObjectStoreSettings(_Model):
    kind: Literal["minio", "s3"]
    minio_storage: str = "10Gi"
    aws_region: str | None = None
    bucket_prefix: str = ""

    @model_validator(mode="after")
    def _s3_needs_region(self) -> ObjectStoreSettings:
        if self.kind == "s3" and not self.aws_region:
            raise ValueError("kind 's3' needs awsRegion")
        return self


class GatewaySettings(_Model):
    service_type: Literal["NodePort", "LoadBalancer"]
    http_node_port: int = 30080
    https_node_port: int = 30443


class DagsterSettings(_Model):
    max_concurrent_runs: int = Field(default=2, ge=1)


class PlatformConfig(_Model):
    # The stack of infra/cluster whose kubeconfig the platform deploys into; without one, the
    # cluster is the one $KUBECONFIG points at (the kwok target's control plane).
    cluster_stack: str | None = None
    # A folder holding the charts unpacked (`<dir>/<chart>/Chart.yaml`, at the pinned versions),
    # used instead of the chart repositories: for machines that cannot reach them.
    charts_dir: str | None = None
    namespace: str = "wharf"
    domain: str
    image_registry: str
    image_pull_policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"
    # upstream: the references pinned in infra/versions.toml; built: wharf's own builds of them
    # (`make images`), loaded into kind or pushed to image_registry (`make images PUSH=…`).
    images: ImageSource = "upstream"
    object_store: ObjectStoreSettings
    postgres: PostgresSettings = PostgresSettings()
    trino_workers: int = Field(default=0, ge=0)
    webserver_replicas: int = Field(default=1, ge=1)
    dagster: DagsterSettings = DagsterSettings()
    tls: TlsSettings
    auth: AuthSettings
    gateway: GatewaySettings
    # Who makes the NetworkPolicies hold where the cluster's network does not: kube-router's
    # firewall (kind, whose kindnet needs a kernel feature some machines lack), or the network itself.
    network_policy_enforcer: Literal["kube-router", "network"] = "network"
    # The most CPU any container requests (`deploy.cpu_budget`): for a cluster on a small machine.
    cpu_request_ceiling: str | None = Field(default=None, pattern=r"^\d+m?$")

    @model_validator(mode="after")
    def _s3_needs_cluster_stack(self) -> PlatformConfig:
        if self.object_store.kind == "s3" and not self.cluster_stack:
            raise ValueError("objectStore kind 's3' needs clusterStack (its OIDC provider grants S3 access)")
        return self

    def host(self, service: str) -> str:
        return f"{service}.{self.domain}"

    @property
    def image_source(self) -> Images:
        return Images(self.images, self.image_registry)


def parse(model: type[Model], raw: Any, key: str) -> Model:
    """Validate `raw` (the value of config key `key`) as `model`, or raise ConfigError naming keys."""
    if raw is None:
        raise ConfigError(f"Pulumi config '{key}' is not set; see Pulumi.<stack>.yaml and the README")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"  {key}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            if e["loc"]
            else f"  {key}: {e['msg']}"
            for e in error.errors()
        ]
        raise ConfigError("invalid stack configuration:\n" + "\n".join(problems)) from None


CLUSTER_KEY = "cluster"  # `wharf-cluster:cluster`
PLATFORM_KEY = "platform"  # `wharf-platform:platform`
OIDC_CLIENT_SECRET_KEY = "oidcClientSecret"  # `wharf-platform:oidcClientSecret`, set with --secret


def cluster_config(stack: str) -> ClusterConfig:
    """`infra/cluster/Pulumi.<stack>.yaml`, parsed as the cluster program parses it."""
    return from_stack_file(ClusterConfig, CLUSTER_PROGRAM, stack, CLUSTER_KEY)


def platform_config(stack: str) -> PlatformConfig:
    """`infra/platform/Pulumi.<stack>.yaml`, parsed as the platform program parses it."""
    return from_stack_file(PlatformConfig, PLATFORM_PROGRAM, stack, PLATFORM_KEY)


def from_stack_file(model: type[Model], program: Path, stack: str, key: str) -> Model:
    """Parse config `key` of `program`'s `Pulumi.<stack>.yaml` as the program would, for tools beside it."""
    project = yaml.safe_load((program / "Pulumi.yaml").read_text())["name"]
    raw = yaml.safe_load((program / f"Pulumi.{stack}.yaml").read_text()) or {}
    qualified = f"{project}:{key}"
    return parse(model, (raw.get("config") or {}).get(qualified), qualified)
