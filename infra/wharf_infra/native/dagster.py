"""Dagster on the native stack: webserver and daemon over the registry's workspace, with the
contract's instance (`dagster.yaml`) on loopback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.contract.artefacts import (
    DAGSTER_PASSWORD_ENV,
    InstancePolicy,
    dagster_instance,
    dagster_yaml,
)
from wharf_infra.contract.endpoints import LOOPBACK
from wharf_infra.core.config import platform_config
from wharf_infra.core.registry import load_registry, workspace
from wharf_infra.native import processes
from wharf_infra.native.settings import credentials, settings


def platform_env() -> dict[str, str]:
    """The code locations' environment on this stack: the contract's, plus the AWS SDK's settings
    (Dagster's own MinIO login, with the contract's grants) and where Dagster's instance is."""
    endpoints = settings().endpoints
    login = credentials()["s3"]["dagster"]
    return endpoints.environment().to_env() | {
        "AWS_ACCESS_KEY_ID": login["user"],
        "AWS_SECRET_ACCESS_KEY": login["password"],
        "AWS_REGION": endpoints.s3_region,
        "AWS_ENDPOINT_URL_S3": endpoints.s3_endpoint or "",
        "DAGSTER_HOME": str(dagster_home()),
        DAGSTER_PASSWORD_ENV: credentials()["postgres"]["dagster"],
    }


def dagster_home() -> Path:
    return settings().state_dir / "dagster-home"


def instance_policy() -> InstancePolicy:
    """The local cluster stack's policy: the native stack is that stack, on loopback."""
    return InstancePolicy(max_concurrent_runs=platform_config("local").dagster.max_concurrent_runs)


def instance_config() -> dict[str, Any]:
    """The contract's instance with loopback endpoints; runs launch as local processes."""
    return dagster_yaml(dagster_instance(settings().endpoints, instance_policy()))


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
        if processes.running_pid(self.name) is None and not self.healthy():  # never a second one
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
