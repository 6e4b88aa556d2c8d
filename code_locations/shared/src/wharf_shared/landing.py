"""The landing store, where files arrive: an S3 bucket (MinIO or AWS), or a local folder.

The S3 client comes from dagster-aws's S3Resource, imported only when an S3 store is first used:
importing dagster_aws costs about 2.3 s over dagster itself, which every code server and run pod
would otherwise pay at load.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

import dagster as dg
from pydantic import Field, PrivateAttr

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True, order=True)
class LandingObject:
    """One stored file. Ordered by (modified, key): the order files are processed in."""

    modified: datetime
    key: str
    size: int
    etag: str


class _Backend(Protocol):
    def list(self, prefix: str) -> list[LandingObject]: ...
    def read(self, key: str) -> bytes: ...
    def write(self, key: str, data: bytes) -> None: ...
    def download(self, key: str, path: Path) -> None: ...
    def copy(self, key: str, new_key: str) -> None: ...
    def delete(self, key: str) -> None: ...


class _FolderBackend:
    def __init__(self, root: Path) -> None:
        self.root = root

    def list(self, prefix: str) -> list[LandingObject]:
        base = self.root / prefix
        if not base.exists():
            return []
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        objects = []
        for path in paths:
            stat = path.stat()
            objects.append(
                LandingObject(
                    modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    key=path.relative_to(self.root).as_posix(),
                    size=stat.st_size,
                    etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}",
                )
            )
        return objects

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # atomic, like an S3 PUT

    def download(self, key: str, path: Path) -> None:
        shutil.copyfile(self.root / key, path)

    def copy(self, key: str, new_key: str) -> None:
        target = self.root / new_key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(self.root / key, partial)
        partial.replace(target)

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


class _S3Backend:
    def __init__(self, bucket: str, client: S3Client) -> None:
        self.bucket = bucket
        self.client = client

    def list(self, prefix: str) -> list[LandingObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        return [
            LandingObject(
                modified=item["LastModified"],
                key=item["Key"],
                size=item["Size"],
                etag=item["ETag"].strip('"'),
            )
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def download(self, key: str, path: Path) -> None:
        self.client.download_file(self.bucket, key, str(path))  # streamed, in parts

    def copy(self, key: str, new_key: str) -> None:
        self.client.copy({"Bucket": self.bucket, "Key": key}, self.bucket, new_key)  # server side

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


class LandingStore(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where files arrive: `s3://landing` on the platform, `file:///folder` when embedded."""

    url: str = Field(description="s3://bucket or file:///folder")
    s3_endpoint: str | None = Field(default=None, description="S3 endpoint; unset for AWS S3")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    _backend: _Backend | None = PrivateAttr(default=None)

    def _store(self) -> _Backend:
        if self._backend is None:
            parsed = urlparse(self.url)
            if parsed.scheme == "file":
                self._backend = _FolderBackend(Path(parsed.path))
            elif parsed.scheme == "s3":
                import boto3

                client = boto3.client(
                    "s3",
                    endpoint_url=self.s3_endpoint,
                    region_name=self.s3_region,
                    aws_access_key_id=self.s3_access_key_id,
                    aws_secret_access_key=self.s3_secret_access_key,
                )
                self._backend = _S3Backend(parsed.netloc, client)
            else:
                raise ValueError(f"LandingStore.url {self.url!r}: use s3://bucket or file:///folder")
        return self._backend

    def list(self, prefix: str) -> list[LandingObject]:
        """Every file under `prefix`, oldest first."""
        return sorted(self._store().list(prefix))

    def read(self, key: str) -> bytes:
        return self._store().read(key)

    def download(self, key: str, path: Path) -> None:
        """Stream `key` into the local file `path`: a large file never sits in memory whole."""
        self._store().download(key, path)

    def exists(self, key: str) -> bool:
        return any(obj.key == key for obj in self._store().list(key))

    def write(self, key: str, data: bytes) -> None:
        self._store().write(key, data)

    def move(self, key: str, new_key: str) -> None:
        """Copy then delete: the file is never absent from both places, nor read into memory."""
        self._store().copy(key, new_key)
        self._store().delete(key)

    def uri(self, key: str) -> str:
        return f"{self.url.rstrip('/')}/{key}"
