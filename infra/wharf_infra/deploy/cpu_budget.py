"""A ceiling on every container's CPU request, for a cluster on a small machine (the stack's
`cpuRequestCeiling`; the local stack's kind on a 2-core laptop or CI runner).

Requests are what the scheduler reserves: the platform's sum of them, not what it uses, would leave
pods Pending on two cores next to the control plane. The ceiling lowers each request above it, in
wharf's own objects and in every chart release's values alike (any `requests.cpu`, wherever the
chart nests it); limits are unchanged, so a busy pod still gets the CPU that is free.
"""

from __future__ import annotations

from typing import Any

import pulumi

from wharf_infra.core.quantities import cpu_millicores


def capped(value: Any, ceiling: str) -> Any:
    """`value` with every `requests.cpu` above `ceiling` lowered to it (plain dicts and lists
    are walked; anything else, an unresolved Output among them, is left as it is)."""
    if isinstance(value, list):
        return [capped(item, ceiling) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: capped(item, ceiling) for key, item in value.items()}
    requests = result.get("requests")
    if not isinstance(requests, dict):
        return result
    cpu = requests.get("cpu")
    if isinstance(cpu, str | int | float) and cpu_millicores(cpu) > cpu_millicores(ceiling):
        result["requests"] = {**requests, "cpu": ceiling}
    return result


def cap_cpu_requests(ceiling: str) -> None:
    """Apply the ceiling to every resource the program declares from here on."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        return pulumi.ResourceTransformationResult(capped(args.props, ceiling), args.opts)

    pulumi.runtime.register_stack_transformation(transformation)
