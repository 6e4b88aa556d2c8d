"""The platform program: every component of the platform, wired together for one stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.artefacts import InstancePolicy, dagster_instance
from wharf_infra.contract.endpoints import Endpoints, cluster_endpoints
from wharf_infra.contract.facts import CERT_MANAGER_NAMESPACE, GATEWAY_NAMESPACE, OPERATOR_NAMESPACE
from wharf_infra.core.config import OIDC_CLIENT_SECRET_KEY, PLATFORM_KEY, PlatformConfig, parse
from wharf_infra.core.registry import load_registry
from wharf_infra.deploy.components.dagster import Dagster, DagsterArgs
from wharf_infra.deploy.components.gateway import Gateway, GatewayArgs, Route
from wharf_infra.deploy.components.marquez import API as MARQUEZ_API
from wharf_infra.deploy.components.marquez import API_PORT as MARQUEZ_API_PORT
from wharf_infra.deploy.components.marquez import WEB, WEB_PORT, Marquez, MarquezArgs
from wharf_infra.deploy.components.minio import Minio, MinioArgs
from wharf_infra.deploy.components.namespaces import Namespaces, NamespacesArgs
from wharf_infra.deploy.components.nessie import Nessie, NessieArgs
from wharf_infra.deploy.components.object_store import COMPONENT as OBJECT_STORE
from wharf_infra.deploy.components.object_store import ObjectStoreFacts
from wharf_infra.deploy.components.policy_enforcer import PolicyEnforcer
from wharf_infra.deploy.components.postgres import Postgres, PostgresArgs
from wharf_infra.deploy.components.release import Charts
from wharf_infra.deploy.components.s3 import S3Args, S3Store
from wharf_infra.deploy.components.superset import Superset, SupersetArgs
from wharf_infra.deploy.components.trino import PORT as TRINO_PORT
from wharf_infra.deploy.components.trino import RELEASE as TRINO_RELEASE
from wharf_infra.deploy.components.trino import Trino, TrinoArgs
from wharf_infra.deploy.cpu_budget import cap_cpu_requests


def _object_store(
    config: PlatformConfig, cluster: pulumi.StackReference | None, opts: pulumi.ResourceOptions
) -> ObjectStoreFacts:
    settings = config.object_store
    if settings.kind == "minio":
        return Minio(
            OBJECT_STORE,
            MinioArgs(config.namespace, settings.minio_storage, images=config.image_source),
            opts,
        ).facts
    assert settings.aws_region is not None and cluster is not None  # checked by the config model
    return S3Store(
        OBJECT_STORE,
        S3Args(
            namespace=config.namespace,
            region=settings.aws_region,
            bucket_prefix=settings.bucket_prefix,
            oidc_provider_arn=cluster.require_output("oidcProviderArn"),
            oidc_provider_url=cluster.require_output("oidcProviderUrl"),
        ),
        opts,
    ).facts


def code_environment(endpoints: Endpoints) -> dict[str, str]:
    """The code locations' environment: the contract's `WHARF_*` plus the AWS SDK's region and endpoint."""
    env = endpoints.environment().to_env() | {"AWS_REGION": endpoints.s3_region}
    if endpoints.s3_endpoint:
        env["AWS_ENDPOINT_URL_S3"] = endpoints.s3_endpoint
    return env


def build_platform(stack: str) -> dict[str, Any]:
    """Declare the platform for `stack`; returns the stack outputs."""
    config = parse(PlatformConfig, pulumi.Config().get_object(PLATFORM_KEY), f"wharf-platform:{PLATFORM_KEY}")
    if config.cpu_request_ceiling:
        cap_cpu_requests(config.cpu_request_ceiling)
    charts = Charts(stack, Path(config.charts_dir) if config.charts_dir else None)
    cluster = pulumi.StackReference(config.cluster_stack) if config.cluster_stack else None
    # Without a cluster stack the provider reads $KUBECONFIG (the kwok target's control plane).
    kubeconfig = cluster.require_output("kubeconfig") if cluster else None
    provider = k8s.Provider("cluster", kubeconfig=kubeconfig, enable_server_side_apply=True)
    base = pulumi.ResourceOptions(provider=provider)
    namespaces = Namespaces(
        "namespaces",
        NamespacesArgs(
            platform_namespace=config.namespace,
            operator_namespace=OPERATOR_NAMESPACE,
            cert_manager_namespace=CERT_MANAGER_NAMESPACE,
            gateway_namespace=GATEWAY_NAMESPACE,
            external_egress=config.object_store.kind == "s3" or config.auth.mode == "oidc",
        ),
        base,
    )
    opts = pulumi.ResourceOptions(provider=provider, depends_on=list(namespaces.namespaces.values()))
    if config.network_policy_enforcer == "kube-router":
        PolicyEnforcer("network-policies", base)

    postgres = Postgres(
        "postgres",
        PostgresArgs(
            charts, config.namespace, OPERATOR_NAMESPACE, config.postgres, images=config.image_source
        ),
        opts,
    )
    store = _object_store(config, cluster, opts)
    endpoints = cluster_endpoints(config.namespace, store.region, store.endpoint, store.buckets)
    Nessie(
        "nessie",
        NessieArgs(
            charts,
            config.namespace,
            endpoints,
            postgres.credentials["nessie"],
            store,
            images=config.image_source,
        ),
        opts,
    )
    Marquez(
        "marquez",
        MarquezArgs(config.namespace, endpoints, postgres.credentials["marquez"], images=config.image_source),
        opts,
    )
    trino = Trino(
        "trino",
        TrinoArgs(
            charts=charts,
            namespace=config.namespace,
            workers=config.trino_workers,
            endpoints=endpoints,
            marts_secret=postgres.credentials["marts"],
            store=store,
            images=config.image_source,
        ),
        opts,
    )
    superset = Superset(
        "superset",
        SupersetArgs(
            config.namespace,
            endpoints,
            postgres.credentials["superset"],
            GATEWAY_NAMESPACE,
            images=config.image_source,
            trino=trino,
        ),
        opts,
    )
    dagster = Dagster(
        "dagster",
        DagsterArgs(
            charts=charts,
            namespace=config.namespace,
            locations=load_registry(),
            image_registry=config.image_registry,
            image_pull_policy=config.image_pull_policy,
            instance=dagster_instance(endpoints, InstancePolicy(config.dagster.max_concurrent_runs)),
            database_password_secret=postgres.dagster_password_secret,
            store=store,
            code_env=code_environment(endpoints),
            webserver_replicas=config.webserver_replicas,
            images=config.image_source,
        ),
        opts,
    )

    routes = [
        Route("dagster", *dagster.webserver, protected=True),
        Route(
            "marquez", WEB, WEB_PORT, protected=True, extra_paths=(("/api", MARQUEZ_API, MARQUEZ_API_PORT),)
        ),
        Route("trino", TRINO_RELEASE, TRINO_PORT, protected=True),
        Route("superset", *superset.service, protected=True),
    ]
    if store.console_service:
        routes.append(Route("minio", *store.console_service, protected=False))
    oidc_secret = (
        pulumi.Config().require_secret(OIDC_CLIENT_SECRET_KEY) if config.auth.mode == "oidc" else None
    )
    gateway = Gateway(
        "gateway",
        GatewayArgs(charts, config, GATEWAY_NAMESPACE, CERT_MANAGER_NAMESPACE, tuple(routes), oidc_secret),
        opts,
    )
    return {"urls": gateway.urls, "loginSecret": gateway.login_secret, "namespace": config.namespace}
