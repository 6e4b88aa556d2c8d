"""The gateway's OIDC login on loopback, as the cloud stacks run it: Traefik (built from the Go
module proxy, the version the cluster runs) with a forwardAuth middleware asking oauth2-proxy (the
same), which sends a browser without a session to a real OIDC provider: Keycloak, from its Maven
Central distribution, with a realm of one client and one user. The middleware's spec and
oauth2-proxy's arguments are the platform program's own (`deploy.components.gateway.login`); only
the addresses are loopback. Each process runs under a supervisor of its own and is stopped after.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.build.toolchain import OAUTH2_PROXY, TRAEFIK
from wharf_infra.core.paths import cache_dir
from wharf_infra.core.supervisor import Supervisor, http_ok
from wharf_infra.core.versions import versions
from wharf_infra.deploy.components.gateway.login import MIDDLEWARE, forward_auth, oauth2_proxy_args
from wharf_infra.native.fetch import maven_artifact
from wharf_infra.native.java import java_for

DOMAIN = "wharf.localhost"
REALM = "wharf"
CLIENT_ID = "wharf-gateway"
USER = "ada"
KEYCLOAK_JAVA = 21  # Keycloak 26 runs on Java 21 or newer
START_TIMEOUT_S = 900  # Keycloak's first start re-augments its Quarkus build: minutes on 2 busy cores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class OidcGateway:
    url: str  # the gateway's Dagster host, e.g. http://dagster.wharf.localhost:<port>
    issuer: str
    user: str
    password: str


def _keycloak_home() -> Path:
    version = versions().native["keycloak"]
    home = cache_dir() / f"keycloak-{version}"
    if not (home / "bin" / "kc.sh").exists():
        tarball = maven_artifact(
            f"org.keycloak:keycloak-quarkus-dist:{version}:tar.gz", f"keycloak-quarkus-dist-{version}.tar.gz"
        )
        staging = home.with_name(home.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")
        (staging / f"keycloak-{version}").rename(home)
        shutil.rmtree(staging)
    return home


def realm(client_secret: str, password: str, redirect: str) -> dict[str, Any]:
    """One confidential client for oauth2-proxy and one user with a verified email."""
    return {
        "realm": REALM,
        "enabled": True,
        "clients": [
            {
                "clientId": CLIENT_ID,
                "enabled": True,
                "publicClient": False,
                "secret": client_secret,
                "standardFlowEnabled": True,
                "redirectUris": [redirect],
            }
        ],
        "users": [
            {
                "username": USER,
                "enabled": True,
                "email": f"{USER}@{DOMAIN}",
                "emailVerified": True,
                "firstName": "Ada",
                "lastName": "Lovelace",
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
        ],
    }


def traefik_dynamic(dagster: str, oauth2_proxy: str, host: str) -> dict[str, Any]:
    """The routes of one protected UI as the cluster's HTTPRoutes have them, for Traefik's file
    provider: the login middleware in front of the UI, oauth2-proxy's callback without it."""
    return {
        "http": {
            "middlewares": {MIDDLEWARE: {"forwardAuth": forward_auth(f"{oauth2_proxy}/")}},
            "routers": {
                "dagster": {"rule": f"Host(`{host}`)", "middlewares": [MIDDLEWARE], "service": "dagster"},
                "dagster-login": {
                    "rule": f"Host(`{host}`) && PathPrefix(`/oauth2/`)",
                    "service": "oauth2-proxy",
                },
            },
            "services": {
                "dagster": {"loadBalancer": {"servers": [{"url": dagster}]}},
                "oauth2-proxy": {"loadBalancer": {"servers": [{"url": oauth2_proxy}]}},
            },
        }
    }


@contextmanager
def oidc_gateway(state: Path, dagster: str) -> Iterator[OidcGateway]:
    """Keycloak, oauth2-proxy and Traefik on loopback, in front of the Dagster webserver at `dagster`."""
    supervisor = Supervisor(state)
    ports = {
        name: free_port() for name in ("keycloak", "keycloak-management", "oauth2-proxy", "traefik", "ping")
    }
    host = f"dagster.{DOMAIN}"
    url = f"http://{host}:{ports['traefik']}"
    issuer = f"http://127.0.0.1:{ports['keycloak']}/realms/{REALM}"
    client_secret, password, cookie_secret = (
        secrets.token_urlsafe(24),
        secrets.token_urlsafe(12),
        secrets.token_hex(16),
    )
    home = _keycloak_home()
    shutil.rmtree(home / "data", ignore_errors=True)  # a fresh realm each run
    (home / "data" / "import").mkdir(parents=True)
    redirect = f"{url}/oauth2/callback"
    (home / "data" / "import" / "wharf-realm.json").write_text(
        json.dumps(realm(client_secret, password, redirect))
    )
    java = java_for(KEYCLOAK_JAVA)
    traefik_config = state / "traefik-dynamic.yaml"
    traefik_config.write_text(
        yaml.safe_dump(traefik_dynamic(dagster, f"http://127.0.0.1:{ports['oauth2-proxy']}", host))
    )
    try:
        supervisor.start(
            "keycloak",
            [
                home / "bin" / "kc.sh",
                "start-dev",
                "--import-realm",
                "--http-host=127.0.0.1",
                f"--http-port={ports['keycloak']}",
                f"--http-management-port={ports['keycloak-management']}",
            ],
            env={"JAVA_HOME": str(java.parent.parent), "JAVA_OPTS_KC_HEAP": "-Xms64m -Xmx512m"},
        )
        supervisor.wait_until(
            "keycloak", lambda: http_ok(f"{issuer}/.well-known/openid-configuration"), START_TIMEOUT_S
        )
        supervisor.start(
            "oauth2-proxy",
            [
                OAUTH2_PROXY.build() / "oauth2-proxy",
                *oauth2_proxy_args(
                    issuer, CLIENT_ID, DOMAIN, https=False, listen=f"127.0.0.1:{ports['oauth2-proxy']}"
                ),
            ],
            env={"OAUTH2_PROXY_CLIENT_SECRET": client_secret, "OAUTH2_PROXY_COOKIE_SECRET": cookie_secret},
        )
        supervisor.wait_until(
            "oauth2-proxy", lambda: http_ok(f"http://127.0.0.1:{ports['oauth2-proxy']}/ready"), 120
        )
        supervisor.start(
            "traefik",
            [
                TRAEFIK.build() / "traefik",
                f"--entryPoints.web.address=127.0.0.1:{ports['traefik']}",
                f"--entryPoints.traefik.address=127.0.0.1:{ports['ping']}",
                "--ping=true",
                f"--providers.file.filename={traefik_config}",
                "--accesslog=true",
            ],
        )
        supervisor.wait_until("traefik", lambda: http_ok(f"http://127.0.0.1:{ports['ping']}/ping"), 120)
        yield OidcGateway(url=url, issuer=issuer, user=USER, password=password)
    finally:
        for name in ("traefik", "oauth2-proxy", "keycloak"):
            supervisor.stop(name, timeout=60)
        left = supervisor.leftovers()
        assert not left, f"the gateway's processes outlived their stop: {left}"
