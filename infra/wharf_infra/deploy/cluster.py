"""The cluster program: kind for the local stack, EKS for staging and prod.

It exports what the platform program reads through its StackReference: `kubeconfig` (secret),
`clusterName`, `provider`, and on EKS the OIDC provider that IAM roles for service accounts trust.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from wharf_infra.core.config import CLUSTER_KEY, ClusterConfig, parse
from wharf_infra.core.image_tags import kind_node_reference
from wharf_infra.core.paths import KIND_CONFIG
from wharf_infra.core.versions import versions
from wharf_infra.deploy.kind_cluster import KindCluster


def kind_node_image(config: ClusterConfig) -> str:
    """The pinned upstream node image, or wharf's build of it (its content tag); with `auto`, the
    upstream one if Docker has it (`make cluster` pulls it first where a registry answers)."""
    upstream = versions().kind_node_image
    if config.node_image == "upstream":
        return upstream
    if config.node_image == "auto" and _docker_has(upstream):
        return upstream
    return kind_node_reference(config.image_registry)


def _docker_has(image: str) -> bool:
    try:
        found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    return found.returncode == 0


def _kind(config: ClusterConfig) -> dict[str, Any]:
    cluster = KindCluster(
        "kind-cluster",
        name=config.name,
        image=kind_node_image(config),
        config=str(KIND_CONFIG),
        config_text=KIND_CONFIG.read_text(),
    )
    return {"kubeconfig": cluster.kubeconfig}


def _eks(config: ClusterConfig) -> dict[str, Any]:
    assert config.eks is not None  # checked by the config model
    settings = config.eks
    provider = aws.Provider("aws", region=settings.region)
    cluster = eks.Cluster(
        config.name,
        name=config.name,
        version=settings.kubernetes_version,
        instance_type=settings.node_group.instance_type,
        min_size=settings.node_group.min_size,
        desired_capacity=settings.node_group.desired_size,
        max_size=settings.node_group.max_size,
        create_oidc_provider=True,
        node_root_volume_encrypted=True,
        enabled_cluster_log_types=["api", "audit", "authenticator"],
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return {
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig_json),
        "oidcProviderArn": cluster.oidc_provider_arn,
        "oidcProviderUrl": cluster.oidc_provider_url,
        "region": settings.region,
    }


def build_cluster() -> dict[str, Any]:
    config = parse(ClusterConfig, pulumi.Config().get_object(CLUSTER_KEY), f"wharf-cluster:{CLUSTER_KEY}")
    outputs = _kind(config) if config.provider == "kind" else _eks(config)
    return {
        **outputs,
        "clusterName": config.name,
        "provider": config.provider,
        "kubernetesVersion": versions().kubernetes,
    }
