"""The cluster program: kind for the local stack, EKS for staging and prod.

It exports what the platform program reads through its StackReference: `kubeconfig` (secret),
`clusterName`, `provider`, and on EKS the OIDC provider that IAM roles for service accounts trust.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_command as command
import pulumi_eks as eks

from wharf_infra.core.config import CLUSTER_KEY, ClusterConfig, parse
from wharf_infra.core.paths import KIND_CONFIG
from wharf_infra.core.versions import versions


def kind_commands(name: str) -> tuple[str, str, str]:
    """(create, delete, read kubeconfig): create is idempotent, so re-running `up` converges."""
    image = versions().kind_node_image
    create = (
        f"kind get clusters | grep -qx {name} || "
        f"kind create cluster --name {name} --image {image} --config {KIND_CONFIG} --wait 120s"
    )
    return create, f"kind delete cluster --name {name}", f"kind get kubeconfig --name {name}"


def _kind(config: ClusterConfig) -> dict[str, Any]:
    create, delete, read = kind_commands(config.name)
    cluster = command.local.Command(
        "kind-cluster",
        create=create,
        delete=delete,
        triggers=[versions().kind_node_image, KIND_CONFIG.read_text()],
    )
    kubeconfig = command.local.Command(
        "kind-kubeconfig", create=read, opts=pulumi.ResourceOptions(depends_on=[cluster])
    )
    return {"kubeconfig": pulumi.Output.secret(kubeconfig.stdout)}


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
