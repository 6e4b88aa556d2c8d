"""Generated credentials, stored only as Kubernetes Secrets (and encrypted in Pulumi state)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from wharf_infra.labels import metadata


def generated_password(name: str, opts: pulumi.ResourceOptions, length: int = 32) -> pulumi.Output[str]:
    password = random.RandomPassword(name, length=length, special=False, opts=opts)
    return pulumi.Output.secret(password.result)


def secret(
    name: str,
    namespace: str,
    component: str,
    data: dict[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    secret_type: str = "Opaque",
) -> k8s.core.v1.Secret:
    return k8s.core.v1.Secret(
        name,
        metadata=metadata(name, namespace, component),
        type=secret_type,
        string_data=data,
        opts=opts,
    )
