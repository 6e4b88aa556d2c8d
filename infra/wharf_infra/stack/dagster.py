"""Dagster on the stack: webserver and daemon over the registry's workspace, storage in Postgres."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from wharf_infra.dagster_storage import POSTGRES_SCHEME
from wharf_infra.registry import load_registry, workspace
from wharf_infra.stack import processes
from wharf_infra.stack.settings import LOOPBACK, credentials, settings


def platform_env() -> dict[str, str]:
    """The environment of the code locations' `platform` profile, pointed at this stack."""
    root = credentials()["minio"]
    return {
        "WHARF_PROFILE": "platform",
        "WHARF_ICEBERG_URI": f"{settings().url('nessie')}/iceberg",
        "WHARF_ICEBERG_WAREHOUSE": "lake",
        "WHARF_S3_ENDPOINT": settings().url("minio"),
        "WHARF_S3_REGION": "us-east-1",
        "WHARF_LANDING_URL": "s3://landing",
        "WHARF_TRINO_HOST": LOOPBACK,
        "WHARF_TRINO_PORT": str(settings().ports["trino"]),
        "WHARF_TRINO_LINEAGE_NAMESPACE": f"trino://{LOOPBACK}:{settings().ports['trino']}",
        "WHARF_OPENLINEAGE_URL": "",
        "AWS_ACCESS_KEY_ID": root["user"],
        "AWS_SECRET_ACCESS_KEY": root["password"],
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": settings().url("minio"),
        "DAGSTER_HOME": str(dagster_home()),
        "WHARF_DAGSTER_PG_PASSWORD": credentials()["postgres"]["dagster"],
    }


def dagster_home() -> Path:
    return settings().state_dir / "dagster-home"


def instance_config() -> dict[str, object]:
    return {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": "dagster",
                    "password": {"env": "WHARF_DAGSTER_PG_PASSWORD"},
                    "hostname": LOOPBACK,
                    "db_name": "dagster",
                    "port": settings().ports["postgres"],
                    "scheme": POSTGRES_SCHEME,
                }
            }
        },
        "compute_logs": {
            "module": "dagster_aws.s3.compute_log_manager",
            "class": "S3ComputeLogManager",
            "config": {
                "bucket": "dagster-logs",
                "prefix": "compute-logs",
                "endpoint_url": settings().url("minio"),
                "region": "us-east-1",
            },
        },
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": 2},
        },
        "telemetry": {"enabled": False},
    }


def write_home() -> Path:
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config(), sort_keys=False))
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace(load_registry()), sort_keys=False))
    return home


class Dagster:
    name = "dagster"

    def up(self) -> None:
        home = write_home()
        bin_dir = Path(sys.executable).parent
        env = platform_env()
        if processes.running_pid("dagster-daemon") is None:
            processes.start(
                "dagster-daemon",
                [bin_dir / "dagster-daemon", "run", "-w", home / "workspace.yaml"],
                env=env,
                cwd=home,
            )
        if not self.healthy():
            processes.start(
                self.name,
                [
                    bin_dir / "dagster-webserver",
                    "-h",
                    LOOPBACK,
                    "-p",
                    str(settings().ports["dagster"]),
                    "-w",
                    home / "workspace.yaml",
                ],
                env=env,
                cwd=home,
            )
        processes.wait_until(self.name, self.healthy, 180)

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url('dagster')}/server_info")

    def down(self) -> None:
        processes.stop(self.name)
        processes.stop("dagster-daemon")
