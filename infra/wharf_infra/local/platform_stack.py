"""The platform stack as `make cluster` runs it on a local target: the tracked `local` config,
rewritten into the target's own config file. The charts come from an offline copy of
`$WHARF_UPSTREAM_DIR/charts` where present (whose values schemas resolve their Kubernetes references
offline: chart repositories and schema URLs may be out of reach; the copies are the pinned versions);
kwok has no cluster stack (the provider reads $KUBECONFIG), kind keeps its StackReference.
"""

from __future__ import annotations

import yaml

from wharf_infra.core.config import PLATFORM_KEY
from wharf_infra.core.paths import PLATFORM_PROGRAM, upstream_dir
from wharf_infra.local.plan import Step
from wharf_infra.local.state import SALT_LINE, STACK, ClusterState, stack_file
from wharf_infra.verify.helm_template import offline_copy

CONFIG_KEY = f"wharf-platform:{PLATFORM_KEY}"
# Pulumi's default (4 per core) is filled by the workloads it waits on while their pods start, and
# the Secrets they read wait behind them: on 2 cores the first `up` stalled until its timeouts.
UP_PARALLEL = "32"


def write_config(state: ClusterState) -> None:
    """The tracked `local` config with the target's differences; keeps the stack's salt."""
    charts = upstream_dir()
    offline = charts is not None and (charts / "charts").is_dir()
    if state.target == "kwok" and not offline:
        raise SystemExit("the kwok target installs the charts from $WHARF_UPSTREAM_DIR/charts: set it")
    document = yaml.safe_load(stack_file(PLATFORM_PROGRAM).read_text())
    platform = document["config"][CONFIG_KEY]
    if state.target == "kwok":
        platform.pop("clusterStack", None)
    if offline and charts is not None:
        platform["chartsDir"] = str(offline_copy(charts / "charts", state.root / "charts"))
    target = state.platform_config_file
    if target.exists() and (salt := yaml.safe_load(target.read_text()).get("encryptionsalt")):
        document["encryptionsalt"] = salt
    target.write_text(yaml.safe_dump(document, sort_keys=False))


def init_stack(state: ClusterState) -> None:
    """Create the stack once. `pulumi stack init` writes the passphrase's salt into the tracked
    stack file; move it into this target's config file and give the tracked file back unchanged."""
    if state.stack_exists(PLATFORM_PROGRAM):
        return
    tracked = stack_file(PLATFORM_PROGRAM)
    original = tracked.read_text()
    tracked.write_text(SALT_LINE.sub("", original))
    try:
        state.run_pulumi(PLATFORM_PROGRAM, "stack", "init", "--secrets-provider", "passphrase", STACK)
        salt = SALT_LINE.search(tracked.read_text())
    finally:
        tracked.write_text(original)
    if salt is None:
        raise SystemExit(f"pulumi stack init wrote no encryption salt into {tracked}")
    config = yaml.safe_load(state.platform_config_file.read_text())
    config["encryptionsalt"] = salt.group(0).split(":", 1)[1].strip()
    state.platform_config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def pulumi_step(state: ClusterState, title: str, *args: str) -> Step:
    """`pulumi <args>` of the platform program with the target's config file."""
    return Step(
        title,
        ("pulumi", *args, "--stack", STACK, "--config-file", str(state.platform_config_file)),
        cwd=PLATFORM_PROGRAM,
    )


def platform_steps(state: ClusterState) -> list[Step]:
    """Write the config, create the stack once, `pulumi up`."""
    offline = "with chartsDir = an offline copy of $WHARF_UPSTREAM_DIR/charts where present"
    without = "without clusterStack, " if state.target == "kwok" else ""
    return [
        Step(
            f"Write {state.platform_config_file}: the `{STACK}` stack config {without}{offline}",
            action=lambda: write_config(state),
        ),
        Step(f"Create the platform stack `{STACK}` in that backend (once)", action=lambda: init_stack(state)),
        pulumi_step(
            state,
            f"pulumi up: the platform program on stack `{STACK}`",
            *("up", "--yes", "--skip-preview", "--parallel", UP_PARALLEL),
        ),
    ]
