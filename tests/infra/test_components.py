"""The components under Pulumi's mocks: what each stack would deploy, and how stacks differ."""

from typing import Any

import pytest
import yaml
from conftest import Rendered
from upstream import upstream_dir

from wharf_infra.core.config import ConfigError, PlatformConfig, cluster_config, parse, platform_config
from wharf_infra.core.image_tags import content_tag, kind_node_reference
from wharf_infra.core.paths import INFRA_DIR, KIND_CONFIG
from wharf_infra.core.registry import load_registry
from wharf_infra.core.versions import versions
from wharf_infra.deploy.cpu_budget import capped
from wharf_infra.verify.render import DYNAMIC_TYPE

LOCATIONS = load_registry()


def _dagster(stack: Rendered) -> dict[str, Any]:
    values: dict[str, Any] = stack.releases()["dagster"]["values"]
    return values


def test_runs_are_launched_as_kubernetes_jobs_that_expire(stack: Rendered) -> None:
    launcher = _dagster(stack)["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    config = launcher["config"]["k8sRunLauncher"]
    assert config["jobNamespace"] == "wharf"
    assert 0 < config["runK8sConfig"]["jobSpecConfig"]["ttlSecondsAfterFinished"] <= 3600
    assert {"name": "wharf-code-env"} in config["envConfigMaps"]
    assert config["imagePullPolicy"] == "IfNotPresent"
    daemon = _dagster(stack)["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert daemon["runMonitoring"]["enabled"] and daemon["runRetries"]["enabled"]
    assert _dagster(stack)["postgresql"]["enabled"] is False


def test_the_instance_is_migrated_by_a_job_a_new_image_replaces(stack: Rendered) -> None:
    """wharf's migration Job, not the chart's (whose fixed name and immutable template made the first
    upgrade to a new image fail), reading the instance and env the chart renders, as the webserver."""
    assert _dagster(stack)["migrate"]["enabled"] is False
    job = stack.named("Job", "dagster-instance-migrate")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["dagster", "instance", "migrate"]
    chart = stack.chart_objects()
    (webserver,) = [o for o in chart if o["kind"] == "Deployment" and "webserver" in o["metadata"]["name"]]
    served = webserver["spec"]["template"]["spec"]
    assert container["image"] == served["containers"][0]["image"]
    assert pod["serviceAccountName"] == served["serviceAccountName"]
    config_maps = {o["metadata"]["name"] for o in chart if o["kind"] == "ConfigMap"}
    read = {v["configMap"]["name"] for v in pod["volumes"]}
    read |= {e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e}
    assert read and read <= config_maps, read - config_maps


def test_one_user_deployment_per_registry_entry_with_its_own_image(stack: Rendered) -> None:
    deployments = _dagster(stack)["dagster-user-deployments"]["deployments"]
    assert [d["name"] for d in deployments] == [loc.name for loc in LOCATIONS]
    for deployment, location in zip(deployments, LOCATIONS, strict=True):
        assert deployment["image"]["repository"].endswith(f"/wharf-{location.name}")
        assert deployment["image"]["tag"] == content_tag(location)
        assert deployment["port"] == location.port
        assert deployment["dagsterApiGrpcArgs"] == ["--module-name", location.module]
        assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
        ceiling = platform_config(stack.stack).cpu_request_ceiling
        wanted = location.run_k8s_resources()
        assert deployment["resources"] == (capped(wanted, ceiling) if ceiling else wanted)


def test_code_locations_get_the_services_profile(stack: Rendered) -> None:
    env = stack.named("ConfigMap", "wharf-code-env")["data"]
    assert env["WHARF_PROFILE"] == "services"
    assert env["WHARF_ICEBERG_URI"] == "http://nessie.wharf.svc:19120/iceberg"
    assert env["WHARF_TRINO_HOST"] == "trino.wharf.svc"
    assert env["WHARF_OPENLINEAGE_URL"] == "http://marquez.wharf.svc:5000"
    # Lineage is Dagster's, one job per table: Trino sends no per-query events.
    assert "eventListenerProperties" not in stack.releases()["trino"]["values"]
    assert env["WHARF_TRINO_LINEAGE_NAMESPACE"] == "trino://trino.wharf.svc:8080"


def _catalog(stack: Rendered, name: str) -> dict[str, str]:
    text = stack.releases()["trino"]["values"]["catalogs"][name]
    return dict(line.split("=", 1) for line in text.splitlines())


def test_trino_catalogs_point_at_nessie_and_postgres(stack: Rendered) -> None:
    lake, marts = _catalog(stack, "lake"), _catalog(stack, "marts")
    assert lake["connector.name"] == "iceberg"
    assert lake["iceberg.catalog.type"] == "rest"
    assert lake["iceberg.rest-catalog.uri"] == "http://nessie.wharf.svc:19120/iceberg"
    assert marts["connector.name"] == "postgresql"
    assert marts["connection-url"] == "jdbc:postgresql://wharf-pg-rw.wharf.svc:5432/marts"
    # Behind the gateway, nextUri links must say https and the public host.
    assert (
        "http-server.process-forwarded=true"
        in stack.releases()["trino"]["values"]["additionalConfigProperties"]
    )


def test_nessie_stores_versions_in_postgres_and_the_lake_in_the_object_store(stack: Rendered) -> None:
    values = stack.releases()["nessie"]["values"]
    assert values["versionStoreType"] == "JDBC2"
    assert values["jdbc"]["jdbcUrl"] == "jdbc:postgresql://wharf-pg-rw.wharf.svc:5432/nessie"
    assert values["jdbc"]["secret"]["name"] == "wharf-pg-nessie"
    warehouse = values["catalog"]["iceberg"]["warehouses"][0]
    assert warehouse["name"] == values["catalog"]["iceberg"]["defaultWarehouse"] == "lake"
    assert warehouse["location"].startswith("s3://") and warehouse["location"].endswith("lake/")


# The servers that open their database as they start and exit if it does not answer (Trino and the
# code servers hold logins too, but connect only when a query or a run needs them).
OPEN_THEIR_DATABASE_AT_START = (
    "nessie",
    "marquez",
    "superset",
    "dagster-dagster-webserver",
    "dagster-daemon",
)


def test_every_server_that_opens_its_database_at_start_waits_for_it(stack: Rendered) -> None:
    """Started before its database, such a server exits and falls into the kubelet's back-off."""
    deployments = {o["metadata"]["name"]: o for o in stack.workloads() if o["kind"] == "Deployment"}
    for name in OPEN_THEIR_DATABASE_AT_START:
        pod = deployments[name]["spec"]["template"]["spec"]
        logins = {
            v["valueFrom"]["secretKeyRef"]["name"]
            for c in pod["containers"]
            for v in c.get("env", [])
            if "secretKeyRef" in v.get("valueFrom", {})
        }
        assert any(login.startswith(("wharf-pg-", "wharf-dagster-postgresql")) for login in logins), name
        first = " ".join(pod.get("initContainers", [{}])[0].get("command", []))
        assert "pg_isready" in first and "wharf-pg-rw.wharf.svc" in first, f"{name} starts without waiting"


def test_postgres_has_a_database_and_role_per_service(stack: Rendered) -> None:
    cluster = stack.named("Cluster", "wharf-pg")["spec"]
    roles = {r["name"]: r["passwordSecret"]["name"] for r in cluster["managed"]["roles"]}
    assert roles == {
        "nessie": "wharf-pg-nessie",
        "marquez": "wharf-pg-marquez",
        "marts": "wharf-pg-marts",
        "superset": "wharf-pg-superset",
    }
    assert cluster["bootstrap"]["initdb"]["owner"] == "dagster"
    databases = {d["spec"]["name"]: d["spec"]["owner"] for d in stack.of_kind("Database")}
    assert databases == {"nessie": "nessie", "marquez": "marquez", "marts": "marts", "superset": "superset"}


def test_routes_and_auth(stack: Rendered) -> None:
    config = yaml.safe_load((INFRA_DIR / "platform" / f"Pulumi.{stack.stack}.yaml").read_text())
    domain = config["config"]["wharf-platform:platform"]["domain"]
    routes = {r["metadata"]["name"]: r for r in stack.of_kind("HTTPRoute")}
    expected = {"dagster", "marquez", "trino", "superset", "https-redirect"} | (
        {"minio"} if stack.stack == "local" else set()
    )
    assert set(routes) == expected
    assert routes["dagster"]["spec"]["hostnames"] == [f"dagster.{domain}"]
    login = stack.named("Middleware", "wharf-login")["spec"]
    use_login = {"group": "traefik.io", "kind": "Middleware", "name": "wharf-login"}
    for name in ("dagster", "marquez", "trino", "superset"):
        for rule in routes[name]["spec"]["rules"]:
            if rule["matches"][0]["path"]["value"] == "/oauth2/":  # the login's own callback
                assert rule["backendRefs"][0]["name"] == "oauth2-proxy" and rule["filters"] == []
                continue
            filters = rule["filters"]
            assert filters[0] == {"type": "ExtensionRef", "extensionRef": use_login}, name
            removed = [f["requestHeaderModifier"]["remove"] for f in filters[1:]]
            # The gateway login must not reach the backend: basicAuth removes it, else a filter.
            assert login.get("basicAuth", {}).get("removeHeader") or removed == [["Authorization"]], name
    if "minio" in routes:
        assert routes["minio"]["spec"]["rules"][0]["filters"] == []
    if stack.stack == "local":
        assert login["basicAuth"]["secret"] == "wharf-basic-auth"
        assert set(stack.named("Secret", "wharf-basic-auth")["stringData"]) == {"users"}
    else:
        forward = login["forwardAuth"]["address"]
        assert forward.startswith("http://oauth2-proxy.") and forward.endswith(":4180/")
        args = stack.named("Deployment", "oauth2-proxy")["spec"]["template"]["spec"]["containers"][0]["args"]
        issuer = next(a.split("=", 1)[1] for a in args if a.startswith("--oidc-issuer-url="))
        assert issuer.startswith("https://") and "--upstream=static://202" in args


def test_tls_comes_from_a_local_ca_or_acme(stack: Rendered) -> None:
    issuers = {i["metadata"]["name"]: i["spec"] for i in stack.of_kind("ClusterIssuer")}
    certificate = stack.named("Certificate", "wharf-gateway-tls")["spec"]
    if stack.stack == "local":
        assert set(issuers) == {"wharf-selfsigned", "wharf-ca-issuer"}
        assert certificate["issuerRef"]["name"] == "wharf-ca-issuer"
    else:
        assert list(issuers) == ["wharf-acme"]
        assert issuers["wharf-acme"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]
        assert certificate["issuerRef"]["name"] == "wharf-acme"


def test_prod_differs_from_local_where_it_must(rendered: dict[str, Rendered]) -> None:
    local, prod = rendered["local"], rendered["prod"]
    assert local.named("Cluster", "wharf-pg")["spec"]["instances"] == 1
    assert prod.named("Cluster", "wharf-pg")["spec"]["instances"] == 3
    assert (
        _dagster(prod)["dagsterWebserver"]["replicaCount"]
        > _dagster(local)["dagsterWebserver"]["replicaCount"]
    )
    assert local.releases()["trino"]["values"]["server"]["workers"] == 0
    assert prod.releases()["trino"]["values"]["server"]["workers"] > 0
    assert local.of_kind("StatefulSet") and not prod.of_kind("StatefulSet")  # MinIO only on local
    cloud = yaml.safe_load((prod.root / "cloud.yaml").read_text())
    assert sum(1 for r in cloud if r["type"] == "aws:s3/bucket:Bucket") == 3
    assert any(r["type"].startswith("eks:") for r in cloud)
    assert prod.releases()["traefik"]["values"]["service"]["type"] == "LoadBalancer"


def test_local_gateway_node_ports_match_the_kind_port_mappings(rendered: dict[str, Rendered]) -> None:
    ports = rendered["local"].releases()["traefik"]["values"]["ports"]
    node_ports = {ports[entry_point]["nodePort"] for entry_point in ("web", "websecure")}
    mappings = yaml.safe_load(KIND_CONFIG.read_text())["nodes"][0]["extraPortMappings"]
    assert node_ports == {m["containerPort"] for m in mappings}
    assert {m["hostPort"] for m in mappings} == {80, 443}


def test_the_kind_cluster_uses_the_pinned_node_image(rendered: dict[str, Rendered]) -> None:
    cloud = yaml.safe_load((rendered["local"].root / "cloud.yaml").read_text())
    [kind] = [r for r in cloud if r["type"] == DYNAMIC_TYPE]
    assert kind["name"] == "kind-cluster"
    from wharf_infra.deploy.cluster import kind_node_image

    local = cluster_config("local")
    image = kind_node_image(local)
    assert kind["inputs"]["image"] == image and kind["inputs"]["config"] == str(KIND_CONFIG)
    assert kind["inputs"]["config_text"] == KIND_CONFIG.read_text()
    pinned = versions().kind_node_image
    built = kind_node_reference(local.image_registry)
    assert kind_node_image(local.model_copy(update={"node_image": "upstream"})) == pinned
    assert kind_node_image(local.model_copy(update={"node_image": "built"})) == built
    assert image in (pinned, built)  # auto: the pinned one where Docker has it, else wharf's build


def test_a_bad_stack_config_names_each_bad_key() -> None:
    raw = yaml.safe_load((INFRA_DIR / "platform" / "Pulumi.local.yaml").read_text())["config"][
        "wharf-platform:platform"
    ]
    broken = {**raw, "objectStore": {"kind": "gcs"}, "auth": {"mode": "oidc"}, "replicas": 3}
    with pytest.raises(ConfigError) as error:
        parse(PlatformConfig, broken, "wharf-platform:platform")
    message = str(error.value)
    assert "wharf-platform:platform.objectStore.kind" in message
    assert "mode 'oidc' needs an 'oidc' block" in message
    assert "wharf-platform:platform.replicas: Extra inputs are not permitted" in message
    with pytest.raises(ConfigError, match="is not set"):
        parse(PlatformConfig, None, "wharf-platform:platform")


def test_trino_carries_the_connector_of_every_catalog_it_is_given() -> None:
    """The chart's default catalogs (TPC benchmarks) stay (Helm values cannot remove a default
    through Pulumi, which drops nulls): a server missing a catalog's connector refuses to start."""
    from wharf_infra.contract.endpoints import cluster_endpoints
    from wharf_infra.core.image_tags import recipes
    from wharf_infra.deploy.components.object_store import ObjectStoreFacts
    from wharf_infra.deploy.components.release import Charts
    from wharf_infra.deploy.components.trino import TrinoArgs, trino_values

    buckets = {"lake": "lake", "landing": "landing"}
    store = ObjectStoreFacts(endpoint="http://minio:9000", region="us-east-1", buckets=buckets)
    endpoints = cluster_endpoints("wharf", store.region, store.endpoint, buckets)
    computed = trino_values(TrinoArgs(Charts("local"), "wharf", 0, endpoints, "marts", store))["catalogs"]
    chart_defaults = yaml.safe_load((upstream_dir() / "charts" / "trino" / "values.yaml").read_text())
    catalogs = {**chart_defaults["catalogs"], **computed}
    connectors = {
        line.split("=", 1)[1].strip()
        for text in catalogs.values()
        for line in text.splitlines()
        if line.startswith("connector.name=")
    }
    assert len(connectors) >= 4, catalogs
    assert connectors <= set(recipes()["trino"].inputs["plugins"].split(","))
