"""Each service reaches the stack's MinIO with a login of its own, holding the contract's grants only."""

import pytest
from botocore.exceptions import ClientError

from wharf_infra.contract.facts import BUCKET_GRANTS, BUCKETS, S3_SERVICES
from wharf_infra.native.services import s3_client


@pytest.mark.parametrize("service", S3_SERVICES)
def test_a_service_login_may_use_its_buckets_and_no_other(stack: dict[str, str], service: str) -> None:
    client = s3_client(service)
    key = f"grant-check/{service}.txt"
    for bucket in BUCKETS:
        if BUCKET_GRANTS[service].get(bucket) == "readwrite":
            client.put_object(Bucket=bucket, Key=key, Body=b"ok")
            assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"ok"
            client.delete_object(Bucket=bucket, Key=key)
            continue
        with pytest.raises(ClientError, match="AccessDenied"):
            client.put_object(Bucket=bucket, Key=key, Body=b"no")
        with pytest.raises(ClientError, match="AccessDenied"):
            client.list_objects_v2(Bucket=bucket)
