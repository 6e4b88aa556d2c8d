"""Where the stack keeps things, what it runs, and the credentials it generated for itself."""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from wharf_infra.paths import INFRA_DIR, cache_dir

STACK_FILE = INFRA_DIR / "stack.toml"
DATABASES = ("dagster", "nessie", "marquez", "marts")
BUCKETS = ("lake", "landing", "dagster-logs")
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class StackSettings:
    versions: dict[str, str]
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

    def url(self, service: str, scheme: str = "http") -> str:
        return f"{scheme}://{LOOPBACK}:{self.ports[service]}"


@cache
def settings() -> StackSettings:
    raw = tomllib.loads(STACK_FILE.read_text())
    wharf_cache = cache_dir()
    state_dir = Path(os.environ.get("WHARF_STACK_DIR", wharf_cache / "stack"))
    return StackSettings(
        versions=raw["versions"],
        java=raw["java"],
        ports=raw["ports"],
        trino_plugins=tuple(raw["trino"]["plugins"]),
        trino_heap=raw["trino"]["heap"],
        cache_dir=wharf_cache,
        state_dir=state_dir,
    )


def credentials() -> dict[str, Any]:
    """Passwords for this stack, generated on first use and kept (mode 0600) in its state folder."""
    path = settings().state_dir / "credentials.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    generated = {
        "postgres": {db: secrets.token_urlsafe(18) for db in DATABASES},
        "minio": {"user": "wharf-root", "password": secrets.token_urlsafe(24)},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(generated, indent=2))
    return generated
