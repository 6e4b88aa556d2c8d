"""The `local` stacks as `make cluster` runs them on a local target.

Each program runs with its own config file in the target's state folder (`ClusterState.config_file`):
the tracked `Pulumi.local.yaml` with the target's differences and this machine's encryption salt,
so the tracked files never change. For the platform the charts come from an offline copy of
`$WHARF_UPSTREAM_DIR/charts` where present (whose values schemas resolve their Kubernetes references
offline: chart repositories and schema URLs may be out of reach; the copies are the pinned
versions); kwok has no cluster stack (the provider reads $KUBECONFIG), kind keeps its StackReference.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.core.config import PLATFORM_KEY
from wharf_infra.core.paths import PLATFORM_PROGRAM, upstream_dir
from wharf_infra.local.plan import Step
from wharf_infra.local.state import STACK, ClusterState, stack_file
from wharf_infra.verify.helm_template import offline_copy

CONFIG_KEY = f"wharf-platform:{PLATFORM_KEY}"
SALT_LINE = re.compile(r"^encryptionsalt:.*\n?", re.MULTILINE)
# Pulumi's default (4 per core) is filled by the workloads it waits on while their pods start, and
# the Secrets they read wait behind them: on 2 cores the first `up` stalled until its timeouts.
UP_PARALLEL = "32"


def _platform_differences(state: ClusterState, document: dict[str, Any]) -> None:
    charts = upstream_dir()
    offline = charts is not None and (charts / "charts").is_dir()
    if state.target == "kwok" and not offline:
        raise SystemExit("the kwok target installs the charts from $WHARF_UPSTREAM_DIR/charts: set it")
    platform = document["config"][CONFIG_KEY]
    if state.target == "kwok":
        platform.pop("clusterStack", None)
    if offline and charts is not None:
        platform["chartsDir"] = str(offline_copy(charts / "charts", state.root / "charts"))


def write_config(state: ClusterState, program: Path) -> None:
    """The tracked `local` config with the target's differences; keeps the stack's salt."""
    document = yaml.safe_load(stack_file(program).read_text())
    if program == PLATFORM_PROGRAM:
        _platform_differences(state, document)
    target = state.config_file(program)
    if target.exists() and (salt := yaml.safe_load(target.read_text()).get("encryptionsalt")):
        document["encryptionsalt"] = salt
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(document, sort_keys=False))


def init_stack(state: ClusterState, program: Path) -> None:
    """Create the stack once. `pulumi stack init` writes the passphrase's salt into the tracked
    stack file; move it into the target's config file and give the tracked file back unchanged."""
    if state.stack_exists(program):
        return
    tracked = stack_file(program)
    original = tracked.read_text()
    tracked.write_text(SALT_LINE.sub("", original))
    try:
        state.run_pulumi(program, "stack", "init", "--secrets-provider", "passphrase", STACK)
        salt = SALT_LINE.search(tracked.read_text())
    finally:
        tracked.write_text(original)
    if salt is None:
        raise SystemExit(f"pulumi stack init wrote no encryption salt into {tracked}")
    target = state.config_file(program)
    config = yaml.safe_load(target.read_text())
    config["encryptionsalt"] = salt.group(0).split(":", 1)[1].strip()
    target.write_text(yaml.safe_dump(config, sort_keys=False))


def pulumi_step(state: ClusterState, program: Path, title: str, *args: str) -> Step:
    """`pulumi <args>` of `program` with the target's config file."""
    return Step(
        title,
        ("pulumi", *args, "--stack", STACK, "--config-file", str(state.config_file(program))),
        cwd=program,
    )


def release_locks_step(state: ClusterState) -> Step:
    return Step(
        "Release the stack locks of interrupted `pulumi` runs (their process gone); stop the plugins "
        "they left",
        action=state.release_stale_locks,
    )


def up_steps(state: ClusterState, program: Path, what: str) -> list[Step]:
    """Write `program`'s config, create its stack once, `pulumi up`."""
    if program == PLATFORM_PROGRAM:
        without = "without clusterStack, " if state.target == "kwok" else ""
        charts = "an offline copy of $WHARF_UPSTREAM_DIR/charts where present"
        differences = f" {without}with chartsDir = {charts}"
    else:
        differences = ""
    return [
        Step(
            f"Write {state.config_file(program)}: the `{STACK}` stack config{differences}",
            action=lambda: write_config(state, program),
        ),
        Step(
            f"Create the {program.name} stack `{STACK}` in that backend (once)",
            action=lambda: init_stack(state, program),
        ),
        pulumi_step(
            state,
            program,
            f"pulumi up: {what} on stack `{STACK}`",
            *("up", "--yes", "--skip-preview", "--parallel", UP_PARALLEL),
        ),
    ]
