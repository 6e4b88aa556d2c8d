"""The object store behind the lake: what every consumer needs to know of it, whichever it is."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

COMPONENT = "object-store"  # the part's name: its Pulumi resource, and its pods' component label


@dataclass(frozen=True)
class ObjectStoreFacts:
    """How services reach the store.

    `endpoint` is None on AWS S3. On MinIO each service has a Secret with `AWS_ACCESS_KEY_ID` and
    `AWS_SECRET_ACCESS_KEY` (`credential_secrets`); on S3 each has an IAM role its Kubernetes
    ServiceAccount assumes (`service_account_annotations`), and no key exists at all.
    """

    endpoint: str | None
    region: str
    buckets: dict[str, str]
    credential_secrets: dict[str, str] = field(default_factory=dict)
    service_account_annotations: dict[str, dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    console_service: tuple[str, int] | None = None

    def bucket_url(self, bucket: str) -> str:
        return f"s3://{self.buckets[bucket]}"
