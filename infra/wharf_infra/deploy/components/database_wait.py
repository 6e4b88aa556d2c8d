"""The init container that holds a pod until Postgres accepts connections.

Nessie, Marquez and Superset exit when their database does not answer. On a first `pulumi up`
CloudNativePG's Postgres comes up minutes after them, and each exit lengthens the kubelet's
back-off (up to five minutes), so they were Ready long after their database was.
"""

from __future__ import annotations

from typing import Any

from wharf_infra.contract.endpoints import Endpoints
from wharf_infra.contract.facts import database
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.security import WHARF_USER, container_security, resources

NAME = "wait-for-database"


def database_wait(images: Images, endpoints: Endpoints, name: str) -> dict[str, Any]:
    """A container running `pg_isready` for database `name` and its owner until Postgres answers.

    The role is named because libpq otherwise takes the OS user's name, and the container's user
    has none: pg_isready then makes no attempt at all ("no attempt"), for ever."""
    owner = database(name).owner
    target = f"-h {endpoints.postgres_host} -p {endpoints.postgres_port} -d {name} -U {owner}"
    return {
        "name": NAME,
        "image": images.reference("postgres_client"),
        "command": ["sh", "-c", f"until pg_isready {target}; do sleep 2; done"],
        # Its own user: some pods (Nessie's chart) set none, and the upstream client image runs as root.
        "securityContext": {**container_security(), "runAsUser": WHARF_USER, "runAsGroup": WHARF_USER},
        "resources": resources("10m", "32Mi", "100m", "64Mi"),
    }
