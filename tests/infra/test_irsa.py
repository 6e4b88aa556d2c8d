"""IRSA on the cloud stacks: every ServiceAccount annotated with a role is trusted by that role, and
every account a role trusts exists, or EKS refuses `AssumeRoleWithWebIdentity` at run time."""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from conftest import Rendered
from program_runs import per_stack, trust_policies

CLOUD_STACKS = ("staging", "prod")  # the stacks on S3 (objectStore.kind: s3)
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


@pytest.fixture(scope="module")
def roles() -> dict[str, dict[str, dict[str, Any]]]:
    """Stack -> role ARN -> trust policy."""
    policies: dict[str, dict[str, dict[str, Any]]] = per_stack(trust_policies, CLOUD_STACKS)
    return policies


def service_accounts(stack: Rendered) -> dict[str, str | None]:
    """`system:serviceaccount:<namespace>:<name>` of every ServiceAccount the stack creates (wharf's
    objects and each release's `helm template`) -> the role it is annotated with, if any."""
    found = [(o["metadata"], None) for o in stack.of_kind("ServiceAccount")]
    for name, release in stack.releases().items():
        documents = yaml.safe_load_all((stack.root / "charts" / f"{name}.yaml").read_text())
        found += [
            (d["metadata"], release["namespace"]) for d in documents if d and d["kind"] == "ServiceAccount"
        ]
    return {
        f"system:serviceaccount:{meta.get('namespace') or namespace}:{meta['name']}": (
            meta.get("annotations") or {}
        ).get(ROLE_ANNOTATION)
        for meta, namespace in found
    }


def annotated_in_values(values: Any) -> Iterator[str]:
    """Every role ARN annotated anywhere in a release's values."""
    if isinstance(values, dict):
        for key, value in values.items():
            if key == ROLE_ANNOTATION:
                yield value
            else:
                yield from annotated_in_values(value)
    elif isinstance(values, list):
        for item in values:
            yield from annotated_in_values(item)


def trusted(policy: dict[str, Any]) -> set[str]:
    """The `:sub` claims (ServiceAccounts) a trust policy admits."""
    subjects: set[str] = set()
    for statement in policy["Statement"]:
        for key, value in statement["Condition"]["StringEquals"].items():
            if key.endswith(":sub"):
                subjects |= {value} if isinstance(value, str) else set(value)
    return subjects


@pytest.mark.parametrize("name", CLOUD_STACKS)
def test_annotated_service_accounts_and_role_trust_agree(
    name: str, rendered: dict[str, Rendered], roles: dict[str, dict[str, dict[str, Any]]]
) -> None:
    stack, policies = rendered[name], roles[name]
    accounts = service_accounts(stack)
    annotated = {account: arn for account, arn in accounts.items() if arn}
    assert policies and annotated, f"{name}: no IAM roles or no annotated ServiceAccounts rendered"
    in_values = Counter(arn for r in stack.releases().values() for arn in annotated_in_values(r["values"]))
    assert in_values <= Counter(annotated.values()), (
        f"{name}: role annotations in chart values that reach no ServiceAccount: "
        f"{in_values - Counter(annotated.values())}"
    )
    untrusted = {
        account: arn
        for account, arn in annotated.items()
        if arn not in policies or account not in trusted(policies[arn])
    }
    assert not untrusted, f"{name}: annotated with a role that does not trust them: {untrusted}"
    missing = {arn: sorted(trusted(p) - accounts.keys()) for arn, p in policies.items()}
    assert not any(missing.values()), (
        f"{name}: roles trust ServiceAccounts the stack does not create: {missing}"
    )
