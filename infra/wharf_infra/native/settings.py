"""Where the native stack keeps things, where it listens, and the credentials it generated."""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from wharf_infra.contract.endpoints import LOOPBACK, Endpoints, native_endpoints
from wharf_infra.contract.facts import DATABASES, MINIO_ROOT_USER, S3_SERVICES, s3_principal
from wharf_infra.contract.superset import SUPERSET_ADMIN
from wharf_infra.core.image_tags import recipes
from wharf_infra.core.paths import INFRA_DIR, cache_dir

NATIVE_FILE = INFRA_DIR / "native.toml"


@dataclass(frozen=True)
class NativeSettings:
    java: dict[str, int]
    ports: dict[str, int]
    trino_plugins: tuple[str, ...]
    trino_heap: str
    cache_dir: Path  # downloads and builds, kept across stacks
    state_dir: Path  # data, logs, pid files and credentials of this stack

    @property
    def downloads(self) -> Path:
        return self.cache_dir / "downloads"

    @property
    def bin_dir(self) -> Path:
        return self.cache_dir / "bin"

    def data(self, service: str) -> Path:
        return self.state_dir / "data" / service

    def log(self, service: str) -> Path:
        return self.state_dir / "logs" / f"{service}.log"

    def pid_file(self, service: str) -> Path:
        return self.state_dir / "run" / f"{service}.pid"

    def url(self, service: str) -> str:
        return f"http://{LOOPBACK}:{self.ports[service]}"

    @property
    def endpoints(self) -> Endpoints:
        return native_endpoints(self.ports)


@cache
def settings() -> NativeSettings:
    raw = tomllib.loads(NATIVE_FILE.read_text())
    wharf_cache = cache_dir()
    return NativeSettings(
        java=raw["java"],
        ports=raw["ports"],
        trino_plugins=tuple(recipes()["trino"].inputs["plugins"].split(",")),  # the image's
        trino_heap=raw["trino"]["heap"],
        cache_dir=wharf_cache,
        state_dir=Path(os.environ.get("WHARF_NATIVE_DIR", wharf_cache / "native")),
    )


def credentials() -> dict[str, Any]:
    """Passwords for this stack, generated on first use and kept (mode 0600) in its state folder.
    `minio` is the root login (setup and tests only); `s3` holds each service's own MinIO login;
    `superset` its admin login and the key that signs its sessions."""
    path = settings().state_dir / "credentials.json"
    stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    wanted: dict[str, dict[str, Any]] = {
        "postgres": {db.name: secrets.token_urlsafe(18) for db in DATABASES},
        "minio": {"user": MINIO_ROOT_USER, "password": secrets.token_urlsafe(24)},
        "s3": {
            service: {"user": s3_principal(service), "password": secrets.token_urlsafe(24)}
            for service in S3_SERVICES
        },
        "superset": {
            "user": SUPERSET_ADMIN,
            "password": secrets.token_urlsafe(18),
            "secret_key": secrets.token_urlsafe(42),
        },
    }
    complete = {key: {**generated, **stored.get(key, {})} for key, generated in wanted.items()}
    if complete != stored:  # first use, or a stack made before a login was added: keep what exists
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(complete, indent=2))
    return complete
