"""The data services on wharf's images, wired as on the cluster and started once for the tier.

PostgreSQL (a database per service), MinIO with its bucket Job's users, Nessie on Postgres with its
own S3 login, Trino with the contract's `lake` and `marts` catalogs and its own S3 login, Marquez
and its web UI. The JVMs start side by side and are waited for after: on 2 cores, one after
another costs minutes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from docker_box import (
    ENDPOINTS,
    Containers,
    docker,
    docker_ok,
    http_ok,
    start_minio,
    start_postgres,
    trino_etc,
)

from wharf_infra.contract.artefacts import (
    MARQUEZ_DATABASE_ENV,
    MARTS_CREDENTIAL_ENV,
    NESSIE_S3,
    S3_KEY_ENV,
    marquez_config,
    nessie_settings,
    properties_text,
    trino_catalogs,
)
from wharf_infra.contract.facts import MINIO_ROOT_USER, S3_SERVICES
from wharf_infra.deploy.components.minio import setup_script

DATABASES = ("nessie", "marquez", "marts")
S3_LOGIN = "images-tier-s3"  # the name Nessie's settings resolve its S3 login by


@dataclass(frozen=True)
class DataServices:
    box: Containers
    minio_image: str
    postgres_password: str
    minio_endpoint: str
    minio_root_password: str
    s3_logins: dict[str, tuple[str, str]]  # service -> (access key, secret), made by the bucket Job

    def psql(self, *sql: str, database: str = "postgres") -> str:
        commands = [arg for statement in sql for arg in ("-c", statement)]
        login = ("-h", "/run", "-U", "postgres", "-d", database)
        return str(docker("exec", "postgres", "psql", *login, "-Atq", *commands))

    def bucket_job(self) -> None:
        """MinIO's setup Job as the component runs it: the server image, its script, read-only root."""
        env = {"MINIO_ROOT_USER": MINIO_ROOT_USER, "MINIO_ROOT_PASSWORD": self.minio_root_password}
        env |= {"MINIO_HOST": "minio", "MC_CONFIG_DIR": "/tmp/mc"}
        for service, (key, secret) in self.s3_logins.items():
            env |= {f"{service.upper()}_ACCESS_KEY": key, f"{service.upper()}_SECRET_KEY": secret}
        job = ["run", "--rm", "--network", self.box.network, "--user", "1000:1000", "--read-only"]
        job += ["--tmpfs", "/tmp:uid=1000", *(f"--env={k}={v}" for k, v in env.items())]
        docker(*job, "--entrypoint", "/bin/sh", self.minio_image, "-c", setup_script())


def start_data_services(box: Containers, built: dict[str, str], scratch: Path) -> DataServices:
    postgres_password, minio_root_password = secrets.token_hex(12), secrets.token_hex(12)
    start_postgres(box, built["postgres"], postgres_password)
    services = DataServices(
        box=box,
        minio_image=built["minio"],
        postgres_password=postgres_password,
        minio_endpoint=start_minio(box, built["minio"], minio_root_password),
        minio_root_password=minio_root_password,
        s3_logins={s: (f"{s}-key", secrets.token_hex(12)) for s in S3_SERVICES},
    )
    services.psql(*(f"CREATE DATABASE {database}" for database in DATABASES))
    services.bucket_job()

    postgres_login = {"username": "postgres", "password": services.postgres_password}
    nessie_key, nessie_secret = services.s3_logins["nessie"]
    # Nessie takes its settings as the chart hands them over: property-named environment variables.
    box.run(
        built["nessie"],
        name="nessie",
        user="10000:10001",
        read_only=True,
        tmpfs=("/tmp:uid=10000",),
        ports=(19120, 9000),
        env=nessie_settings(ENDPOINTS)
        | {f"quarkus.datasource.postgresql.{k}": v for k, v in postgres_login.items()}
        | {
            f"{NESSIE_S3}.access-key": f"urn:nessie-secret:quarkus:{S3_LOGIN}",
            f"{S3_LOGIN}.name": nessie_key,
            f"{S3_LOGIN}.secret": nessie_secret,
        },
    )
    catalogs = {name: properties_text(props) for name, props in trino_catalogs(ENDPOINTS).items()}
    etc = trino_etc(scratch / "trino", catalogs)
    box.run(
        built["trino"],
        name="trino",
        user="1000:1000",
        volumes=(f"{etc}:/etc/trino:ro",),
        ports=(8080,),
        env=dict(zip(S3_KEY_ENV, services.s3_logins["trino"], strict=True))
        | dict(zip(MARTS_CREDENTIAL_ENV, ("postgres", services.postgres_password), strict=True)),
    )
    config = scratch / "marquez"
    config.mkdir()
    (config / "config.yml").write_text(yaml.safe_dump(marquez_config(ENDPOINTS, 5000, 5001)))
    config.chmod(0o755)
    box.run(
        built["marquez"],
        name="marquez",
        user="10001:10001",
        read_only=True,
        tmpfs=("/tmp:uid=10001",),
        env={"MARQUEZ_CONFIG": "/etc/marquez/config.yml"}
        | dict(zip(MARQUEZ_DATABASE_ENV, ("postgres", services.postgres_password), strict=True)),
        volumes=(f"{config}:/etc/marquez:ro",),
        ports=(5000, 5001),
    )
    # The web UI, as the component runs it: the built UI, and the API forwarded to Marquez.
    box.run(
        built["marquez-web"],
        name="marquez-web",
        user="10001:10001",
        tmpfs=("/tmp:uid=10001",),
        env={"MARQUEZ_HOST": "marquez", "MARQUEZ_PORT": "5000", "WEB_PORT": "3000"},
        ports=(3000,),
    )

    # The charts' readiness probes, one service after another once all are starting.
    box.wait("nessie", lambda: http_ok(f"http://127.0.0.1:{box.port('nessie', 9000)}/q/health/ready"))
    box.wait("trino", lambda: docker_ok("exec", "trino", "/usr/lib/trino/bin/health-check"))
    box.wait("marquez", lambda: http_ok(f"http://127.0.0.1:{box.port('marquez', 5001)}/healthcheck"))
    box.wait("marquez-web", lambda: http_ok(f"http://127.0.0.1:{box.port('marquez-web', 3000)}/"))
    return services
