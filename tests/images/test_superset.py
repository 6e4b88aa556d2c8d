"""wharf's Superset image as the platform runs it: the init container's script on a fresh database in
the tier's PostgreSQL, the server as uid 10001 on a read-only root, the tier's Trino (the lake and
marts catalogs Superset's databases list) beside it, then the dashboards Job's importer, run twice:
both dashboards are there after the first, and the second imports nothing."""

from __future__ import annotations

import secrets
from pathlib import Path

from data_services import DataServices
from docker_box import ENDPOINTS, Containers, docker, http_ok

from wharf_infra.contract.dashboards import bundles
from wharf_infra.contract.superset import (
    ADMIN_ENV,
    DATABASE_PASSWORD_ENV,
    SECRET_KEY_ENV,
    initialise_script,
    server_command,
    superset_config,
)
from wharf_infra.contract.superset_api import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV, URL_ENV, SupersetClient
from wharf_infra.deploy.components.superset import BUNDLES_DIR, CONFIG_DIR, HOME, PORT


def _finished(box: Containers, name: str) -> str:
    """Wait for a one-shot container; its logs, after asserting it succeeded (else the server's too)."""
    code = docker("wait", name, timeout=900).strip()
    assert code == "0", f"{name} exited {code}:\n{box.logs(name)[-3000:]}\nsuperset:\n{box.logs('superset')}"
    return str(box.logs(name))


def test_superset_initialises_serves_and_imports_the_dashboards_once(
    built: dict[str, str], data_services: DataServices, tmp_path: Path
) -> None:
    database_password, admin_password = secrets.token_hex(12), secrets.token_hex(12)
    data_services.psql(
        f"CREATE ROLE superset LOGIN PASSWORD '{database_password}'",
        "CREATE DATABASE superset OWNER superset",
    )
    containers = data_services.box
    config = tmp_path / "config"
    (config / "dashboards").mkdir(parents=True)
    (config / "superset_config.py").write_text(superset_config(ENDPOINTS))
    for bundle in bundles(ENDPOINTS):
        (config / "dashboards" / f"{bundle.slug}.zip").write_bytes(bundle.zipped)
        (config / "dashboards" / f"{bundle.slug}.sha256").write_text(bundle.digest)
    for path in (config, config / "dashboards"):
        path.chmod(0o755)
    env = {
        "SUPERSET_CONFIG_PATH": f"{CONFIG_DIR}/superset_config.py",
        SECRET_KEY_ENV: secrets.token_hex(24),
        DATABASE_PASSWORD_ENV: database_password,
    }
    admin = dict(zip(ADMIN_ENV, ("admin", admin_password), strict=True))
    as_the_pod = {
        "user": "10001:10001",
        "read_only": True,
        "tmpfs": ("/tmp:uid=10001", f"{HOME}:uid=10001"),
        "volumes": (f"{config}:{CONFIG_DIR}:ro",),
    }
    containers.run(
        built["superset"],
        "-c",
        initialise_script(),
        name="superset-init",
        env=env | admin,
        entrypoint="/bin/sh",
        **as_the_pod,
    )
    _finished(containers, "superset-init")
    containers.run(
        built["superset"],
        *server_command(f"0.0.0.0:{PORT}"),
        name="superset",
        env=env,
        ports=(PORT,),
        **as_the_pod,
    )
    url = f"http://127.0.0.1:{containers.port('superset', PORT)}"
    containers.wait("superset", lambda: http_ok(f"{url}/health"))

    importer = {
        URL_ENV: f"http://superset:{PORT}",
        ADMIN_USER_ENV: "admin",
        ADMIN_PASSWORD_ENV: admin_password,
    }
    for run, expected in (("first", "bioreactor-batches, weather"), ("second", "none changed")):
        name = f"superset-import-{run}"
        containers.run(
            built["superset"],
            "python", "/opt/superset/superset_api.py", BUNDLES_DIR,
            name=name, env=importer, **as_the_pod,
        )  # fmt: skip
        assert f"dashboards imported: {expected}" in _finished(containers, name)
    client = SupersetClient(url, "admin", admin_password)
    titles = {d["dashboard_title"] for d in client.get("/api/v1/dashboard/")["result"]}
    assert titles == {"Bioreactor batches", "Weather"}
