"""Starting the images tier's containers: labelled, on a private network, waited for with their
logs shown when they exit; and the small HTTP probes the tests ask them with."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from wharf_infra.contract.endpoints import Endpoints
from wharf_infra.contract.facts import MINIO_REGION, MINIO_ROOT_USER

LABEL = "wharf.tier=images"
PGDATA = "/var/lib/postgresql/data/pgdata"
START_TIMEOUT_S = 300.0  # generous: JVMs start slowly on a busy 2-core machine


def docker(*argv: str, check: bool = True, timeout: float = 600) -> str:
    result = subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(argv)} failed: {result.stderr[-2000:]}")
    return result.stdout.strip()


def docker_ok(*argv: str, timeout: float = 120) -> bool:
    return (
        subprocess.run(["docker", *argv], capture_output=True, timeout=timeout, check=False).returncode == 0
    )


def remove_labelled() -> None:
    for kind in ("container", "network"):
        found = docker(
            kind, "ls", "-aq" if kind == "container" else "-q", "--filter", f"label={LABEL}", check=False
        )
        if found:
            docker(kind, "rm", *(["-f"] if kind == "container" else []), *found.split(), check=False)


@dataclass
class Containers:
    """Starts labelled containers on one private network; container names resolve on it."""

    network: str
    started: list[str] = field(default_factory=list)

    def run(
        self,
        reference: str,
        *args: str,
        name: str,
        user: str,
        read_only: bool = False,
        tmpfs: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        ports: tuple[int, ...] = (),
        volumes: tuple[str, ...] = (),
        entrypoint: str | None = None,
    ) -> str:
        argv = ["run", "-d", "--label", LABEL, "--network", self.network, "--name", name, "--user", user]
        argv += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
        argv += ["--read-only"] if read_only else []
        argv += [f"--tmpfs={path}" for path in tmpfs]
        argv += [f"--env={key}={value}" for key, value in (env or {}).items()]
        argv += [f"--publish=127.0.0.1::{port}" for port in ports]
        argv += [f"--volume={volume}" for volume in volumes]
        argv += ["--entrypoint", entrypoint] if entrypoint is not None else []
        container = docker(*argv, reference, *args)
        self.started.append(container)
        return name

    def port(self, name: str, port: int) -> int:
        return int(docker("port", name, str(port)).rsplit(":", 1)[1])

    def logs(self, name: str) -> str:
        result = subprocess.run(["docker", "logs", "--tail", "40", name], capture_output=True, text=True)
        return result.stdout + result.stderr

    def wait(self, name: str, check: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
        """Poll `check` until it passes; fail at once, with the logs, if the container exits."""
        deadline = time.monotonic() + timeout
        while not check():
            state = json.loads(docker("inspect", "--format", "{{json .State}}", name))
            assert state["Running"], f"{name} exited ({state['ExitCode']}):\n{self.logs(name)}"
            assert time.monotonic() < deadline, f"{name} not ready after {timeout:.0f} s:\n{self.logs(name)}"
            time.sleep(2)


@contextmanager
def private_network() -> Iterator[Containers]:
    """A labelled network; the containers started on it are removed with it."""
    network = f"wharf-images-{uuid.uuid4().hex[:8]}"
    docker("network", "create", "--label", LABEL, network)
    box = Containers(network)
    try:
        yield box
    finally:
        if box.started:
            docker("rm", "-f", *box.started, check=False)
        docker("network", "rm", network, check=False)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def http_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> object:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start_postgres(box: Containers, image: str, password: str) -> str:
    """initdb and the server, as uid 26 on a read-only root; other containers log in by password."""
    script = (
        f"printf '%s' \"$PGPASSWORD\" > /run/pw && initdb -D {PGDATA} -U postgres --pwfile=/run/pw "
        f"--auth-local=trust --auth-host=scram-sha-256 >/dev/null "
        f"&& echo 'host all all all scram-sha-256' >> {PGDATA}/pg_hba.conf "
        f"&& exec postgres -D {PGDATA} -c listen_addresses='*' -k /run"
    )
    box.run(
        image,
        "-c",
        script,
        name="postgres",
        user="26:26",
        read_only=True,
        tmpfs=("/var/lib/postgresql/data:uid=26,gid=26", "/run:uid=26,gid=26"),
        env={"PGPASSWORD": password},
        entrypoint="sh",
    )
    box.wait("postgres", lambda: docker_ok("exec", "postgres", "pg_isready", "-h", "/run"))
    return "postgres"


def trino_etc(folder: Path, catalogs: dict[str, str] | None = None) -> Path:
    """The files the Trino chart mounts at /etc/trino, with the chart's JVM agent line."""
    (folder / "catalog").mkdir(parents=True)
    files = {
        "node.properties": "node.environment=wharf\nnode.data-dir=/data/trino\n",
        "config.properties": "coordinator=true\nnode-scheduler.include-coordinator=true\n"
        "http-server.http.port=8080\ndiscovery.uri=http://localhost:8080\n",
        "jvm.config": "-server\n-agentpath:/usr/lib/trino/bin/libjvmkill.so\n-Xmx1G\n-XX:+UseG1GC\n"
        "-XX:+ExitOnOutOfMemoryError\n-Djdk.attach.allowAttachSelf=true\n",
        "log.properties": "io.trino=INFO\n",
    }
    files |= {f"catalog/{name}.properties": text for name, text in (catalogs or {}).items()}
    for name, text in files.items():
        (folder / name).write_text(text)
    for path in (folder, folder / "catalog"):
        path.chmod(0o755)
    return folder


def trino_query(port: int, sql: str) -> list[list[object]]:
    headers = {"X-Trino-User": "wharf"}
    page = http_json(f"http://127.0.0.1:{port}/v1/statement", data=sql.encode(), headers=headers)
    rows: list[list[object]] = []
    while isinstance(page, dict):
        assert "error" not in page, page.get("error")
        rows += page.get("data", [])
        if "nextUri" not in page:
            break
        page = http_json(page["nextUri"], headers=headers)
    return rows


def start_minio(box: Containers, image: str, root_password: str) -> str:
    """The server as the component runs it (uid 1000, read-only root, console on :9001); its API URL."""
    box.run(
        image,
        *("server", "/data", "--console-address", ":9001"),
        name="minio",
        user="1000:1000",
        read_only=True,
        tmpfs=("/data:uid=1000", "/tmp:uid=1000"),
        env={"MINIO_ROOT_USER": MINIO_ROOT_USER, "MINIO_ROOT_PASSWORD": root_password, "MINIO_UPDATE": "off"},
        ports=(9000,),
    )
    endpoint = f"http://127.0.0.1:{box.port('minio', 9000)}"
    box.wait("minio", lambda: http_ok(f"{endpoint}/minio/health/ready"))
    return endpoint


# The services as the containers name each other on the tier's network.
ENDPOINTS = Endpoints(
    postgres_host="postgres",
    postgres_port=5432,
    nessie_url="http://nessie:19120",
    trino_url="http://trino:8080",
    marquez_url="http://marquez:5000",
    s3_region=MINIO_REGION,
    s3_endpoint="http://minio:9000",
)
