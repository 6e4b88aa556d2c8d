"""Previews of the platform's `local` stack on a running target: the kwok and kind tiers ask the
same two questions of the state `make cluster` left (nothing to change; one setting, one release)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from wharf_infra.core.paths import PLATFORM_PROGRAM
from wharf_infra.local.state import STACK, ClusterState


def pulumi(state: ClusterState, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`pulumi <args>` on the platform's `local` stack of `state`, with its config (or `config`)."""
    config_file = config or state.config_file(PLATFORM_PROGRAM)
    return subprocess.run(
        ["pulumi", *args, "--stack", STACK, "--config-file", str(config_file)],
        cwd=PLATFORM_PROGRAM,
        env={**os.environ, **state.env()},
        capture_output=True,
        text=True,
        check=False,
    )


def changes_of_one_more_concurrent_run(state: ClusterState, scratch: Path) -> set[tuple[str, str]]:
    """(operation, resource name) of each change `pulumi preview` plans when the stack config allows
    Dagster one more concurrent run (only the Dagster release should change). Reads (kind's
    platform reads the cluster stack's outputs) change nothing."""
    config = yaml.safe_load(state.config_file(PLATFORM_PROGRAM).read_text())
    config["config"]["wharf-platform:platform"]["dagster"]["maxConcurrentRuns"] += 1
    changed = scratch / "Pulumi.local.yaml"
    changed.write_text(yaml.safe_dump(config))
    preview = pulumi(state, "preview", "--json", config=changed)
    assert preview.returncode == 0, preview.stderr[-2000:]
    steps = json.loads(preview.stdout)["steps"]
    return {
        (step["op"], step["urn"].rsplit("::", 1)[-1]) for step in steps if step["op"] not in ("same", "read")
    }
