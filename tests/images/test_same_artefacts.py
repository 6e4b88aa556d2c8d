"""The images run the very files the native stack runs: digests compared, file by file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from docker_box import docker

from wharf_infra.build.toolchain import OAUTH2_PROXY, TRAEFIK
from wharf_infra.native import artefacts
from wharf_infra.native.marquez_web import MarquezWeb
from wharf_infra.native.services import Marquez, Postgres, Trino


def _postgres_server(tmp_path: Path) -> Path:
    """The native stack's server binary where it is installed, else the same unpack, done here."""
    installed = Postgres().home / "bin" / "postgres"
    if installed.exists():
        return installed
    artefacts.unpack_postgres(tmp_path / "postgresql")
    return tmp_path / "postgresql" / "bin" / "postgres"


def _java(tmp_path: Path) -> Path:
    artefacts.java_runtime(tmp_path / "java-runtime")
    return tmp_path / "java-runtime" / "lib" / "server" / "libjvm.so"


# image -> (path in the image, the native stack's file)
PAIRS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "postgres": ("/usr/lib/postgresql/bin/postgres", _postgres_server),
    "jre": ("/opt/java/lib/server/libjvm.so", _java),
    "minio": ("/usr/bin/minio", lambda _: artefacts.minio_binary()),
    "nessie": ("/deployments/nessie-runner.jar", lambda _: artefacts.nessie_jar()),
    "trino": (
        "/usr/lib/trino/lib/io.trino_trino-main-476.jar",
        lambda _: Trino().install() / "lib" / "io.trino_trino-main-476.jar",
    ),
    "marquez": ("/usr/src/app/marquez.jar", lambda _: Marquez().build()),
    "marquez-web": ("/usr/src/app/dist/bundle.js", lambda _: MarquezWeb().build() / "dist" / "bundle.js"),
    "traefik": ("/usr/local/bin/traefik", lambda _: TRAEFIK.build() / "traefik"),
    "oauth2-proxy": ("/bin/oauth2-proxy", lambda _: OAUTH2_PROXY.build() / "oauth2-proxy"),
}


@pytest.mark.parametrize("image", sorted(PAIRS))
def test_image_and_native_stack_run_the_same_file(image: str, built: dict[str, str], tmp_path: Path) -> None:
    in_image, native = PAIRS[image]
    digest = docker(
        "run", "--rm", "--user", "0", "--entrypoint", "sha256sum", built[image], in_image
    ).split()[0]
    assert digest == hashlib.sha256(native(tmp_path).read_bytes()).hexdigest()
