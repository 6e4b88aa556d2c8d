"""`make dev`: `dagster dev` over every location of the registry, on the native stack if it runs.

With the stack up, the code locations use its services (the `services` profile) and its Dagster
instance in Postgres; the stack's background webserver and daemon step aside so that exactly one
daemon ticks the sensors (`make native-up` brings them back). Without it, the `embedded` profile
needs no service at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

from wharf_infra.core.paths import BUILD_DIR, REPO_ROOT
from wharf_infra.core.registry import load_registry, workspace
from wharf_shared.environment import PROFILE

PORT = "3000"


def main() -> None:
    from wharf_infra.native.dagster import Dagster, dagster_home, platform_env, write_home
    from wharf_infra.native.stack import services

    backing = [s for s in services() if s.name != "dagster"]
    if all(service.healthy() for service in backing):
        Dagster().down()
        home = write_home()
        env = {**os.environ, **platform_env()}
        workspace_file = home / "workspace.yaml"
        print(f"dev: on the native stack (instance in Postgres, {dagster_home()})", file=sys.stderr)
    else:
        home = Path(os.environ.get("DAGSTER_HOME", REPO_ROOT / ".dagster_home"))
        home.mkdir(parents=True, exist_ok=True)
        BUILD_DIR.mkdir(exist_ok=True)
        workspace_file = BUILD_DIR / "workspace.yaml"
        workspace_file.write_text(yaml.safe_dump(workspace(load_registry()), sort_keys=False))
        env = {**os.environ, "DAGSTER_HOME": str(home), PROFILE: "embedded"}
        print("dev: embedded profile (no native stack running; `make native-up` starts one)", file=sys.stderr)
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.execve(dagster, [dagster, "dev", "-w", str(workspace_file), "-h", "127.0.0.1", "-p", PORT], env)


if __name__ == "__main__":
    main()
