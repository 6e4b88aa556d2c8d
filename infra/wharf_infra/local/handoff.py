"""What `make cluster` hands over: the local CA, the UI login, the smoke target, the URLs.

The login and the CA are read from the cluster's Secrets (they are generated there and exist nowhere
else); the files they go to are private to the user (mode 0600).
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from wharf_infra.contract.facts import CA_SECRET, CERT_MANAGER_NAMESPACE, LOGIN_SECRET
from wharf_infra.contract.facts import GATEWAY_HTTPS_PORT as HTTPS_PORT
from wharf_infra.contract.facts import MINIO_ROOT_SECRET as MINIO_LOGIN_SECRET
from wharf_infra.core.paths import PLATFORM_PROGRAM
from wharf_infra.local.resolution import GATEWAY_ADDRESS
from wharf_infra.local.state import PRIVATE_FILE, ClusterState


def secret_data(state: ClusterState, namespace: str, name: str) -> dict[str, str]:
    """A Secret's keys, decoded; empty while the Secret does not exist yet."""
    found = state.cluster_json("kubectl", "get", "secret", name, "--namespace", namespace, check=False)
    encoded: dict[str, str] = (found or {}).get("data") or {}
    return {key: base64.b64decode(value).decode() for key, value in encoded.items()}


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=PRIVATE_FILE, exist_ok=True)
    path.chmod(PRIVATE_FILE)
    path.write_text(text)


def save_ca(state: ClusterState) -> bool:
    """Save the local CA's certificate, which TLS checks against; False until cert-manager made it."""
    certificate = secret_data(state, CERT_MANAGER_NAMESPACE, CA_SECRET).get("ca.crt")
    if certificate is None:
        return False
    _write_private(state.ca_certificate, certificate)
    return True


def login(state: ClusterState) -> tuple[str, str]:
    """The generated UI login (basic auth at the gateway)."""
    namespace = state.platform.namespace
    data = secret_data(state, namespace, LOGIN_SECRET)
    user, password = data.get("username"), data.get("password")
    if user is None or password is None:
        raise SystemExit(f"the login Secret {namespace}/{LOGIN_SECRET} is missing or incomplete")
    return user, password


def smoke_target(state: ClusterState, urls: dict[str, str], user: str, password: str) -> dict[str, object]:
    """The smoke suite's description of this cluster (see tests/smoke/target.py)."""
    config = state.platform
    return {
        "dagster_url": urls["dagster"],
        # Trino's client sends its user as the basic-auth name too: the gateway's login user.
        "trino": {"host": config.host("trino"), "port": HTTPS_PORT, "scheme": "https", "user": user},
        "auth": {"user": user, "password": password},
        "marquez_url": urls["marquez"],
        "superset_url": urls["superset"],
        "kubeconfig": str(state.kubeconfig),
        "namespace": config.namespace,
        "verify_tls": str(state.ca_certificate),
        "resolve": {"domain": config.domain, "address": GATEWAY_ADDRESS},
    }


def simulated_smoke_target(state: ClusterState) -> dict[str, object]:
    """The smoke suite's description of a cluster whose nodes kwok simulates: its Kubernetes checks
    run on this cluster; the data path, which needs running containers, on the native stack."""
    return {
        "containers": "simulated",
        "kubeconfig": str(state.kubeconfig),
        "namespace": state.platform.namespace,
    }


def write_smoke_target(state: ClusterState, target: dict[str, object]) -> None:
    _write_private(state.smoke_target, yaml.safe_dump(target, sort_keys=False))


def announce(state: ClusterState) -> None:
    """Write the smoke target and print where everything is."""
    outputs = state.stack_outputs(PLATFORM_PROGRAM)
    urls = {str(name): str(url) for name, url in outputs["urls"].items()}
    user, password = login(state)
    write_smoke_target(state, smoke_target(state, urls, user, password))
    width = max(len(name) for name in urls)
    print("\nwharf is up:")
    for name, url in sorted(urls.items()):
        print(f"  {name:<{width}}  {url}")
    print(f"\nLogin (Dagster, Marquez, Trino): {user} / {password}")
    minio_login = f"{state.platform.namespace}/{MINIO_LOGIN_SECRET}"
    print(f"  (the MinIO console keeps its own login: Secret {minio_login})")
    print(f"TLS: a local CA signs the certificates; trust {state.ca_certificate} or accept the warning.")
    print(f"kubectl: export KUBECONFIG={state.kubeconfig}")
    print(f"Smoke test it: make smoke   (target: {state.smoke_target})")
