"""The platform program: every component of the platform, wired together for one stack."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.components.dagster import Dagster, DagsterArgs
from wharf_infra.components.gateway import Gateway, GatewayArgs, Route
from wharf_infra.components.marquez import API as MARQUEZ_API
from wharf_infra.components.marquez import API_PORT as MARQUEZ_API_PORT
from wharf_infra.components.marquez import WEB, WEB_PORT, Marquez, MarquezArgs
from wharf_infra.components.minio import Minio, MinioArgs
from wharf_infra.components.nessie import WAREHOUSE, Nessie, NessieArgs
from wharf_infra.components.network import Network, NetworkArgs
from wharf_infra.components.object_store import ObjectStoreFacts
from wharf_infra.components.postgres import Postgres, PostgresArgs
from wharf_infra.components.s3 import S3Args, S3Store
from wharf_infra.components.trino import Trino, TrinoArgs, lineage_namespace
from wharf_infra.config import PlatformConfig, parse
from wharf_infra.registry import load_registry

OPERATOR_NAMESPACE = "cnpg-system"
CERT_MANAGER_NAMESPACE = "cert-manager"
GATEWAY_NAMESPACE = "envoy-gateway-system"
CONFIG_KEY = "platform"


def _object_store(
    config: PlatformConfig, cluster: pulumi.StackReference, opts: pulumi.ResourceOptions
) -> ObjectStoreFacts:
    settings = config.object_store
    if settings.kind == "minio":
        return Minio("object-store", MinioArgs(config.namespace, settings.minio_storage), opts).facts
    assert settings.aws_region is not None  # checked by the config model
    return S3Store(
        "object-store",
        S3Args(
            namespace=config.namespace,
            region=settings.aws_region,
            bucket_prefix=settings.bucket_prefix,
            oidc_provider_arn=cluster.require_output("oidcProviderArn"),
            oidc_provider_url=cluster.require_output("oidcProviderUrl"),
        ),
        opts,
    ).facts


def code_environment(
    config: PlatformConfig, store: ObjectStoreFacts, iceberg_uri: str, trino: Trino, marquez: Marquez
) -> dict[str, str]:
    """The `WHARF_*` variables of the code locations' `platform` profile (see wharf_shared.profiles)."""
    env = {
        "WHARF_PROFILE": "platform",
        "WHARF_ICEBERG_URI": iceberg_uri,
        "WHARF_ICEBERG_WAREHOUSE": WAREHOUSE,
        "WHARF_S3_REGION": store.region,
        "WHARF_LANDING_URL": store.bucket_url("landing"),
        "WHARF_TRINO_HOST": trino.host,
        "WHARF_TRINO_PORT": str(trino.port),
        "WHARF_OPENLINEAGE_URL": marquez.api_url,
        "WHARF_TRINO_LINEAGE_NAMESPACE": lineage_namespace(config.namespace),
        "AWS_REGION": store.region,
    }
    if store.endpoint:
        env["WHARF_S3_ENDPOINT"] = store.endpoint
        env["AWS_ENDPOINT_URL_S3"] = store.endpoint
    return env


def build_platform(stack: str) -> dict[str, Any]:
    """Declare the platform for `stack`; returns the stack outputs."""
    config = parse(PlatformConfig, pulumi.Config().get_object(CONFIG_KEY), f"wharf-platform:{CONFIG_KEY}")
    cluster = pulumi.StackReference(config.cluster_stack)
    provider = k8s.Provider(
        "cluster", kubeconfig=cluster.require_output("kubeconfig"), enable_server_side_apply=True
    )
    base = pulumi.ResourceOptions(provider=provider)
    network = Network(
        "network",
        NetworkArgs(
            platform_namespace=config.namespace,
            operator_namespace=OPERATOR_NAMESPACE,
            cert_manager_namespace=CERT_MANAGER_NAMESPACE,
            gateway_namespace=GATEWAY_NAMESPACE,
            external_egress=config.object_store.kind == "s3" or config.auth.mode == "oidc",
        ),
        base,
    )
    opts = pulumi.ResourceOptions(provider=provider, depends_on=list(network.namespaces.values()))

    postgres = Postgres(
        "postgres", PostgresArgs(stack, config.namespace, OPERATOR_NAMESPACE, config.postgres), opts
    )
    store = _object_store(config, cluster, opts)
    nessie = Nessie(
        "nessie",
        NessieArgs(
            stack, config.namespace, postgres.jdbc_url("nessie"), postgres.credentials["nessie"], store
        ),
        opts,
    )
    marquez = Marquez(
        "marquez",
        MarquezArgs(config.namespace, postgres.host, postgres.port, postgres.credentials["marquez"]),
        opts,
    )
    trino = Trino(
        "trino",
        TrinoArgs(
            stack=stack,
            namespace=config.namespace,
            workers=config.trino_workers,
            iceberg_uri=nessie.iceberg_uri,
            warehouse=WAREHOUSE,
            marts_jdbc_url=postgres.jdbc_url("marts"),
            marts_secret=postgres.credentials["marts"],
            store=store,
            openlineage_url=marquez.api_url,
        ),
        opts,
    )
    dagster = Dagster(
        "dagster",
        DagsterArgs(
            stack=stack,
            namespace=config.namespace,
            locations=load_registry(),
            image_registry=config.image_registry,
            image_pull_policy=config.image_pull_policy,
            database_host=postgres.host,
            database_port=postgres.port,
            database_password_secret=postgres.dagster_password_secret,
            store=store,
            code_env=code_environment(config, store, nessie.iceberg_uri, trino, marquez),
            webserver_replicas=config.webserver_replicas,
        ),
        opts,
    )

    routes = [
        Route("dagster", *dagster.webserver, protected=True),
        Route(
            "marquez", WEB, WEB_PORT, protected=True, extra_paths=(("/api", MARQUEZ_API, MARQUEZ_API_PORT),)
        ),
        Route("trino", trino.host.split(".")[0], trino.port, protected=True),
    ]
    if store.console_service:
        routes.append(Route("minio", *store.console_service, protected=False))
    oidc_secret = pulumi.Config().require_secret("oidcClientSecret") if config.auth.mode == "oidc" else None
    gateway = Gateway(
        "gateway",
        GatewayArgs(stack, config, GATEWAY_NAMESPACE, CERT_MANAGER_NAMESPACE, tuple(routes), oidc_secret),
        opts,
    )
    return {"urls": gateway.urls, "loginSecret": gateway.login_secret, "namespace": config.namespace}
