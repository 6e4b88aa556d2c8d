"""Superset's configuration (`superset_config.py`) and its connection to the marts, for both sides.

The file names no secret: the secret key and the metadata database's password are read from the
environment (`SUPERSET_ENV`), set from Secrets on the cluster and from the stack's credentials
natively. Superset reads Trino as its own user, `SUPERSET_TRINO_USER`, which Trino's access rules
(`trino_access_rules`) allow to read `SUPERSET_CATALOGS` and nothing else.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wharf_infra.contract.endpoints import Endpoints
from wharf_infra.contract.facts import database

SECRET_KEY_ENV = "SUPERSET_SECRET_KEY"
DATABASE_PASSWORD_ENV = "SUPERSET_DATABASE_PASSWORD"
ADMIN_ENV = ("ADMIN_USER", "ADMIN_PASSWORD")  # the admin login, for `initialise_script`
SUPERSET_TRINO_USER = "superset"
SUPERSET_ADMIN = "admin"  # the login created on first start (its password is generated)
# The Trino catalogs dashboards read, one Superset database connection each: the marts, and the
# lake's staging views for raw readings.
SUPERSET_CATALOGS = ("marts", "lake")


def connection_name(catalog: str) -> str:
    """The name users see in Superset's database list."""
    return f"Lakehouse {catalog}"


def catalog_uri(endpoints: Endpoints, catalog: str) -> str:
    """The SQLAlchemy URI of `catalog` through Trino, as Superset's user (no password: Trino
    authenticates no one on the platform's network; its access rules bound what this user may do)."""
    return f"trino://{SUPERSET_TRINO_USER}@{urlsplit(endpoints.trino_url).netloc}/{catalog}"


def superset_config(endpoints: Endpoints) -> str:
    """The text of `superset_config.py`.

    Caches: the explore and filter state live in the metadata database (Superset's default
    `SupersetMetastoreCache`), query results are not cached, and the rate limiter counts in memory;
    so Superset needs no Redis. Celery (async queries, alerts and reports) is not configured.
    """
    owner = database("superset").owner
    metadata = f"{endpoints.postgres_host}:{endpoints.postgres_port}/{database('superset').name}"
    return f'''"""Superset on the wharf platform (rendered by wharf; secrets from the environment)."""

import os
from urllib.parse import quote

SECRET_KEY = os.environ["{SECRET_KEY_ENV}"]
SQLALCHEMY_DATABASE_URI = (
    "postgresql+psycopg2://{owner}:" + quote(os.environ["{DATABASE_PASSWORD_ENV}"], safe="") + "@{metadata}"
)
CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
RATELIMIT_STORAGE_URI = "memory://"
FEATURE_FLAGS = {{"DASHBOARD_RBAC": False, "ALERT_REPORTS": False}}
# No SQLite or other local-file database may be connected from the UI.
PREVENT_UNSAFE_DB_CONNECTIONS = True
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 10000
'''


def initialise_script() -> str:
    """What runs before the server (the cluster's init container, the native stack's first start):
    migrations, the admin login (from `ADMIN_ENV`) and the built-in roles, each idempotent."""
    user, password = ADMIN_ENV
    return (
        f'set -e; superset db upgrade; superset fab create-admin --username "${user}" '
        f'--password "${password}" --firstname wharf --lastname admin --email admin@wharf.localhost; '
        "superset init"
    )


# One gunicorn worker (about 350 MiB at rest) with threads enough for a dashboard's charts at once.
WORKERS, THREADS = 1, 8


def server_command(bind: str) -> list[str]:
    """How Superset's web server is started on both sides (`bind`: host:port)."""
    return [
        "gunicorn",
        *("--bind", bind, "--workers", str(WORKERS), "--threads", str(THREADS), "--timeout", "120"),
        "superset.app:create_app()",
    ]
