"""The native stack's lifecycle: its services in start order, brought up, checked and stopped."""

from __future__ import annotations

import shutil
import sys

from wharf_infra.native.dagster import Dagster
from wharf_infra.native.marquez_web import MarquezWeb
from wharf_infra.native.services import Marquez, Minio, Nessie, Postgres, Service, Trino
from wharf_infra.native.settings import settings
from wharf_infra.native.superset import Superset


def services() -> list[Service]:
    """In start order: each depends only on those before it."""
    return [Postgres(), Minio(), Nessie(), Marquez(), MarquezWeb(), Trino(), Dagster(), Superset()]


def ensure_up() -> bool:
    """Start the stack unless every service already runs; return whether this call started it."""
    if all(service.healthy() for service in services()):
        return False
    up()
    return True


def up() -> None:
    for service in services():
        print(f"{service.name}: starting", file=sys.stderr, flush=True)
        service.up()


def down(wipe: bool = False) -> None:
    for service in reversed(services()):
        service.down()
        print(f"{service.name}: stopped", file=sys.stderr)
    if wipe:
        Postgres().wipe()
        shutil.rmtree(settings().state_dir, ignore_errors=True)
        print(f"wiped {settings().state_dir}", file=sys.stderr)


def status() -> bool:
    all_up = True
    for service in services():
        healthy = service.healthy()
        all_up &= healthy
        where = settings().url(service.name) if service.name in settings().ports else ""
        print(f"{service.name:<12} {'up' if healthy else 'down':<5} {where}")
    return all_up
