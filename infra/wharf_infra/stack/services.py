"""The stack's services. Each one is obtained, configured, started and health-checked."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Protocol

from wharf_infra.stack import processes
from wharf_infra.stack.fetch import debian_package, go_binary, maven_artifact
from wharf_infra.stack.java import java_for
from wharf_infra.stack.settings import BUCKETS, DATABASES, LOOPBACK, credentials, settings


class Service(Protocol):
    name: str

    def up(self) -> None: ...
    def down(self) -> None: ...
    def healthy(self) -> bool: ...


class Postgres:
    """Debian's PostgreSQL, one cluster, a database and role per service (as on Kubernetes)."""

    name = "postgres"

    def __init__(self) -> None:
        self.bin = Path(f"/usr/lib/postgresql/{settings().versions['postgres_major']}/bin")
        self.as_root = os.geteuid() == 0
        # Postgres refuses to run as root; then it runs as `postgres`, which cannot enter /root.
        digest = hashlib.sha256(str(settings().state_dir).encode()).hexdigest()[:10]
        self.data = (
            Path(f"/var/lib/wharf-stack/{digest}/postgres") if self.as_root else settings().data("postgres")
        )

    def _run(
        self, *argv: str | Path, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        return subprocess.run(
            [*prefix, *map(str, argv)], capture_output=True, text=True, check=check, input=stdin
        )

    def _psql(self, sql: str, database: str = "postgres") -> str:
        return self._run(
            self.bin / "psql",
            "-h",
            self.data,
            "-p",
            str(settings().ports["postgres"]),
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            stdin=sql,  # not on the command line: role passwords are in it
        ).stdout.strip()

    def up(self) -> None:
        debian_package(f"postgresql-{settings().versions['postgres_major']}", self.bin / "postgres")
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True, exist_ok=True)
            if self.as_root:
                shutil.chown(self.data, "postgres", "postgres")
            self._run(
                self.bin / "initdb",
                "-D",
                self.data,
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        if not self.healthy():
            self._run(
                self.bin / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.data / "server.log",
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {settings().ports['postgres']} -h {LOOPBACK} -k {self.data}",
                "start",
            )
        processes.wait_until(self.name, self.healthy, 60, watch_process=False)
        passwords = credentials()["postgres"]
        for db in DATABASES:
            exists = self._psql(f"select 1 from pg_roles where rolname = '{db}'")
            verb = "alter" if exists else "create"
            self._psql(f"{verb} role {db} with login password '{passwords[db]}'")
            if not self._psql(f"select 1 from pg_database where datname = '{db}'"):
                self._psql(f"create database {db} owner {db}")

    def healthy(self) -> bool:
        return (
            self._run(
                self.bin / "pg_isready", "-h", LOOPBACK, "-p", str(settings().ports["postgres"]), check=False
            ).returncode
            == 0
        )

    def down(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def wipe(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)


class Minio:
    name = "minio"

    def up(self) -> None:
        binary = go_binary("github.com/minio/minio", settings().versions["minio"], "minio")
        if not self.healthy():
            data = settings().data(self.name)
            data.mkdir(parents=True, exist_ok=True)
            root = credentials()["minio"]
            processes.start(
                self.name,
                [
                    binary,
                    "server",
                    data,
                    "--address",
                    f"{LOOPBACK}:{settings().ports['minio']}",
                    "--console-address",
                    f"{LOOPBACK}:{settings().ports['minio_console']}",
                ],
                env={
                    "MINIO_ROOT_USER": root["user"],
                    "MINIO_ROOT_PASSWORD": root["password"],
                    "MINIO_UPDATE": "off",
                    "MINIO_BROWSER": "on",
                },
            )
        processes.wait_until(self.name, self.healthy, 60)
        client = s3_client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        for bucket in BUCKETS:
            if bucket not in existing:
                client.create_bucket(Bucket=bucket)

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url('minio')}/minio/health/live")

    def down(self) -> None:
        processes.stop(self.name)


def s3_client() -> Any:
    """A boto3 S3 client for the stack's MinIO, as its root user."""
    import boto3

    root = credentials()["minio"]
    return boto3.client(
        "s3",
        endpoint_url=settings().url("minio"),
        region_name="us-east-1",
        aws_access_key_id=root["user"],
        aws_secret_access_key=root["password"],
    )


class Nessie:
    """Nessie with the JDBC2 version store on the stack's Postgres and its Iceberg REST catalog."""

    name = "nessie"

    def up(self) -> None:
        version = settings().versions["nessie"]
        jar = maven_artifact(
            f"org.projectnessie.nessie:nessie-quarkus:{version}:jar:runner",
            f"nessie-quarkus-{version}-runner.jar",
        )
        if not self.healthy():
            java = java_for(settings().java["nessie"])
            root = credentials()["minio"]
            props = {
                "quarkus.http.host": LOOPBACK,
                "quarkus.http.port": settings().ports["nessie"],
                "quarkus.management.host": LOOPBACK,
                "quarkus.management.port": settings().ports["nessie"] + 1,
                "nessie.version.store.type": "JDBC2",
                "nessie.version.store.persist.jdbc.datasource": "postgresql",
                "quarkus.datasource.postgresql.jdbc.url": f"jdbc:postgresql://{LOOPBACK}:{settings().ports['postgres']}/nessie",
                "quarkus.datasource.postgresql.username": "nessie",
                "nessie.catalog.default-warehouse": "lake",
                "nessie.catalog.warehouses.lake.location": "s3://lake/",
                "nessie.catalog.service.s3.default-options.endpoint": settings().url("minio"),
                "nessie.catalog.service.s3.default-options.path-style-access": "true",
                "nessie.catalog.service.s3.default-options.region": "us-east-1",
                "nessie.catalog.service.s3.default-options.access-key": "urn:nessie-secret:quarkus:wharf-s3",
            }
            # Secrets go in a file Quarkus reads from its working directory, not on the command line.
            workdir = settings().state_dir / "nessie"
            (workdir / "config").mkdir(parents=True, exist_ok=True)
            secret_file = workdir / "config" / "application.properties"
            secret_file.touch(mode=0o600)
            secret_file.write_text(
                f"quarkus.datasource.postgresql.password={credentials()['postgres']['nessie']}\n"
                f"wharf-s3.name={root['user']}\nwharf-s3.secret={root['password']}\n"
            )
            processes.start(
                self.name,
                [java, "-Xmx768m", *(f"-D{k}={v}" for k, v in props.items()), "-jar", jar],
                cwd=workdir,
            )
        processes.wait_until(self.name, self.healthy, 180)

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url('nessie')}/api/v2/config")

    def down(self) -> None:
        processes.stop(self.name)


class Trino:
    """Trino with catalogs `lake` (Iceberg REST → Nessie, S3 → MinIO) and `marts` (Postgres)."""

    name = "trino"

    @property
    def home(self) -> Path:
        return settings().cache_dir / f"trino-server-{settings().versions['trino']}"

    def _install(self) -> None:
        """Unpack the server and only the plugins wharf uses (Trino loads every plugin it finds).

        Plugins hard-link the jars they share; a link's target may sit in a plugin left out, so
        targets are unpacked too, into a staging folder that keeps only what is wanted.
        """
        version = settings().versions["trino"]
        wanted = ("lib", "bin", *(f"plugin/{p}" for p in settings().trino_plugins))
        missing = tuple(path for path in wanted if not (self.home / path).is_dir())
        if not missing:
            return
        tarball = maven_artifact(f"io.trino:trino-server:{version}:tar.gz", f"trino-server-{version}.tar.gz")
        print(f"  unpacking {', '.join(missing)} from {tarball.name}", flush=True)
        prefix = f"trino-server-{version}/"
        staging = self.home.with_name(self.home.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(tarball) as archive:
            members = archive.getmembers()
            by_name = {member.name: member for member in members}
            keep = [
                m
                for m in members
                if m.name.removeprefix(prefix).startswith(tuple(f"{p}/" for p in missing))
                or (m.isfile() and m.name.count("/") == 1)
            ]
            link_targets = [by_name[m.linkname] for m in keep if m.islnk()]
            archive.extractall(staging, members=[*link_targets, *keep], filter="data")
        root = staging / prefix
        for path in missing:
            (self.home / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).rename(self.home / path)
        for file in root.iterdir():
            if file.is_file():
                file.replace(self.home / file.name)
        shutil.rmtree(staging)

    def _configure(self) -> Path:
        etc = settings().state_dir / "trino-etc"
        (etc / "catalog").mkdir(parents=True, exist_ok=True)
        port = settings().ports["trino"]
        files: dict[str, dict[str, object]] = {
            "node.properties": {
                "node.environment": "wharf",
                "node.id": "wharf-native",
                "node.data-dir": settings().data(self.name),
            },
            "config.properties": {
                "coordinator": "true",
                "node-scheduler.include-coordinator": "true",
                "http-server.http.port": port,
                "discovery.uri": f"http://{LOOPBACK}:{port}",
                "query.max-memory": "1GB",
                "query.max-memory-per-node": "512MB",
            },
            "log.properties": {"io.trino": "INFO"},
            "catalog/lake.properties": {
                "connector.name": "iceberg",
                "iceberg.catalog.type": "rest",
                "iceberg.rest-catalog.uri": f"{settings().url('nessie')}/iceberg",
                "iceberg.rest-catalog.warehouse": "lake",
                "iceberg.rest-catalog.view-endpoints-enabled": "true",
                "fs.native-s3.enabled": "true",
                "s3.endpoint": settings().url("minio"),
                "s3.path-style-access": "true",
                "s3.region": "us-east-1",
                "s3.aws-access-key": "${ENV:WHARF_TRINO_S3_KEY}",
                "s3.aws-secret-key": "${ENV:WHARF_TRINO_S3_SECRET}",
            },
            "catalog/marts.properties": {
                "connector.name": "postgresql",
                "connection-url": f"jdbc:postgresql://{LOOPBACK}:{settings().ports['postgres']}/marts",
                "connection-user": "marts",
                "connection-password": "${ENV:WHARF_TRINO_MARTS_PASSWORD}",
            },
        }
        for name, properties in files.items():
            (etc / name).write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        (etc / "jvm.config").write_text(
            "\n".join(
                [
                    "-server",
                    f"-Xmx{settings().trino_heap}",
                    "-XX:+UseG1GC",
                    "-XX:+ExitOnOutOfMemoryError",
                    "-Djdk.attach.allowAttachSelf=true",
                    "--add-modules=jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED",
                    "",
                ]
            )
        )
        return etc

    def up(self) -> None:
        self._install()
        if not self.healthy():
            java = java_for(settings().java["trino"])
            etc = self._configure()
            # The launcher keeps a pid file of its own; one left by a killed server blocks a start.
            (settings().data(self.name) / "var" / "run" / "launcher.pid").unlink(missing_ok=True)
            root = credentials()["minio"]
            env = {
                "JAVA_HOME": str(java.parent.parent),
                "PATH": f"{java.parent}:{os.environ['PATH']}",
                "WHARF_TRINO_S3_KEY": root["user"],
                "WHARF_TRINO_S3_SECRET": root["password"],
                "WHARF_TRINO_MARTS_PASSWORD": credentials()["postgres"]["marts"],
            }
            processes.start(
                self.name,
                [
                    self.home / "bin" / "launcher",
                    "run",
                    f"--etc-dir={etc}",
                    f"--data-dir={settings().data(self.name)}",
                ],
                env=env,
            )
        processes.wait_until(self.name, self.healthy, 240)

    def healthy(self) -> bool:
        """Up means answering and done starting (catalogs loaded)."""
        body = processes.http_get(f"{settings().url('trino')}/v1/info")
        return body is not None and json.loads(body).get("starting") is False

    def down(self) -> None:
        processes.stop(self.name, timeout=60)
