"""What the smoke suite points at: URLs and credentials of a running wharf, from a YAML file.

`WHARF_SMOKE_TARGET=<file>` names the target; without it the suite targets the native stack (and
starts it when it is not running). A target file looks like:

    dagster_url: https://dagster.wharf.localhost
    trino: {host: trino.wharf.localhost, port: 443, scheme: https, user: admin}
    auth: {user: admin, password: ...}          # the gateway's login, if any
    marquez_url: https://marquez.wharf.localhost  # optional
    superset_url: https://superset.wharf.localhost  # optional: behind the gateway's login
    superset: {url: ..., user: admin, password: ...}  # optional: Superset and its own login
    kubeconfig: ~/.kube/config                  # optional: enables the Kubernetes checks
    namespace: wharf
    verify_tls: /path/to/ca.crt                 # true (system CAs), false, or a CA bundle
    resolve: {domain: wharf.localhost, address: 127.0.0.1}  # optional: where the hostnames go

`make cluster` writes one for the kind cluster (`~/.cache/wharf/kind/smoke-target.yaml`).
`make cluster TARGET=kwok` writes `~/.cache/wharf/kwok/smoke-target.yaml` for a cluster whose nodes
are simulated, which runs no container:

    containers: simulated   # the Kubernetes checks here; the data path on the native stack
    kubeconfig: ~/.cache/wharf/kwok/kubeconfig
    namespace: wharf
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Target:
    dagster_url: str
    trino: dict[str, Any]
    auth: tuple[str, str] | None = None
    marquez_url: str | None = None
    superset: tuple[str, str, str] | None = None  # (url, user, password)
    superset_url: str | None = None  # behind the gateway's login (its own login in a Secret)
    kubeconfig: Path | None = None
    namespace: str = "wharf"
    verify_tls: bool | str = True  # or the path of a CA bundle
    resolve: tuple[str, str] | None = None  # (domain, address) for resolvers that ignore *.localhost
    simulated: bool = False  # the cluster's nodes run no containers (kwok)
    native_data_plane: bool = False  # the URLs are the native stack's, started if it is not running


def from_file(path: Path) -> Target:
    raw = yaml.safe_load(path.read_text())
    kubeconfig = Path(os.path.expanduser(raw["kubeconfig"])) if raw.get("kubeconfig") else None
    if raw.get("containers") == "simulated":
        namespace = raw.get("namespace", "wharf")
        return replace(native_stack(), kubeconfig=kubeconfig, namespace=namespace, simulated=True)
    auth, resolve = raw.get("auth"), raw.get("resolve")
    return Target(
        dagster_url=raw["dagster_url"].rstrip("/"),
        trino=raw["trino"],
        auth=(auth["user"], auth["password"]) if auth else None,
        marquez_url=raw.get("marquez_url"),
        superset_url=raw.get("superset_url"),
        superset=(raw["superset"]["url"], raw["superset"]["user"], raw["superset"]["password"])
        if raw.get("superset")
        else None,
        kubeconfig=kubeconfig,
        namespace=raw.get("namespace", "wharf"),
        verify_tls=raw.get("verify_tls", True),
        resolve=(resolve["domain"], resolve["address"]) if resolve else None,
    )


def native_stack() -> Target:
    from wharf_infra.contract.endpoints import LOOPBACK
    from wharf_infra.native.settings import credentials, settings

    login = credentials()["superset"]
    return Target(
        dagster_url=settings().url("dagster"),
        trino={"host": LOOPBACK, "port": settings().ports["trino"], "scheme": "http", "user": "smoke"},
        marquez_url=settings().url("marquez"),
        superset=(settings().url("superset"), login["user"], login["password"]),
        native_data_plane=True,
    )
