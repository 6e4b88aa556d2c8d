"""AWS S3 for cloud stacks: the buckets, private and encrypted, and one IAM role per service.

Roles are assumed through the cluster's OIDC provider (IRSA), so no access key exists anywhere.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from wharf_infra.contract.facts import BUCKETS, S3_SERVICES, s3_policy
from wharf_infra.deploy.components import dagster, nessie, trino
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.object_store import ObjectStoreFacts

# Each service's role is trusted by every account its component's pods run as, as that component
# declares them: an annotated account missing here is refused by STS (tests/infra/test_irsa.py).
SERVICE_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "nessie": nessie.SERVICE_ACCOUNTS,
    "trino": trino.SERVICE_ACCOUNTS,
    "dagster": dagster.SERVICE_ACCOUNTS,
}


@dataclass(frozen=True)
class S3Args:
    namespace: str
    region: str
    bucket_prefix: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]


def _trust_policy(provider: list[str], namespace: str, accounts: tuple[str, ...]) -> str:
    """Only these ServiceAccounts of this namespace, through the cluster's OIDC provider."""
    provider_arn, provider_url = provider
    issuer = provider_url.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": [f"system:serviceaccount:{namespace}:{a}" for a in accounts],
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


class S3Store(Component):
    facts: ObjectStoreFacts

    def __init__(self, name: str, args: S3Args, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("S3Store", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        buckets: dict[str, aws.s3.Bucket] = {}
        for bucket in BUCKETS:
            resource = aws.s3.Bucket(
                *child_name(f"bucket-{bucket}", child), bucket=f"{args.bucket_prefix}{bucket}"
            )
            aws.s3.BucketPublicAccessBlock(
                *child_name(f"bucket-{bucket}-private", child),
                bucket=resource.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            )
            aws.s3.BucketServerSideEncryptionConfiguration(
                *child_name(f"bucket-{bucket}-sse", child),
                bucket=resource.id,
                rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
            )
            buckets[bucket] = resource
        annotations: dict[str, dict[str, pulumi.Input[str]]] = {}
        for service in S3_SERVICES:
            role = aws.iam.Role(
                *child_name(f"role-{service}", child),
                assume_role_policy=pulumi.Output.all(args.oidc_provider_arn, args.oidc_provider_url).apply(
                    functools.partial(
                        _trust_policy, namespace=args.namespace, accounts=SERVICE_ACCOUNTS[service]
                    )
                ),
            )
            aws.iam.RolePolicy(
                *child_name(f"role-{service}-s3", child),
                role=role.id,
                policy=pulumi.Output.all(**{b: buckets[b].arn for b in BUCKETS}).apply(
                    functools.partial(s3_policy, service=service)
                ),
            )
            annotations[service] = {"eks.amazonaws.com/role-arn": role.arn}
        self.facts = ObjectStoreFacts(
            endpoint=None,
            region=args.region,
            buckets={b: f"{args.bucket_prefix}{b}" for b in BUCKETS},
            service_account_annotations=annotations,
        )
        self.register_outputs({"buckets": self.facts.buckets})
