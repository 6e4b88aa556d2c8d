"""What every wharf component shares: it names its children after itself.

A child of component `postgres` is `postgres-<part>`, so two components of one kind never collide
and the state shows whose each child is. Each child keeps `<part>`, its name from before components
named their children, as an alias: a stack deployed then is updated in place, nothing replaced (a
replaced password would be a new password; a replaced object, a name Kubernetes still holds).
"""

from __future__ import annotations

import pulumi

PLATFORM_TYPE = "wharf:platform"


class Component(pulumi.ComponentResource):
    """A component of the platform program, typed `wharf:platform:<kind>`."""

    def __init__(self, kind: str, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(f"{PLATFORM_TYPE}:{kind}", name, None, opts)
        self.component_name = name


def child_name(part: str, opts: pulumi.ResourceOptions) -> tuple[str, pulumi.ResourceOptions]:
    """The logical name and options of child `part` of `opts.parent`: `<component>-<part>`, aliased
    to `part`. A resource whose parent is no component keeps `part`."""
    parent = opts.parent
    if not isinstance(parent, Component):
        return part, opts
    renamed = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=part)])
    return f"{parent.component_name}-{part}", pulumi.ResourceOptions.merge(opts, renamed)
