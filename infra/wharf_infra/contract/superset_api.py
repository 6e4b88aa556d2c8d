"""Superset's REST API as wharf uses it, on both sides: the native stack imports the dashboards
with it, and so does the cluster's dashboards Job, from a copy of this file in wharf's Superset
image. It therefore imports nothing of wharf: the standard library and `requests` only.

python superset_api.py <folder>   import the bundles in <folder> (`<slug>.zip` beside `<slug>.sha256`)
                                  into the Superset at $SUPERSET_URL as $SUPERSET_ADMIN_USER /
                                  $SUPERSET_ADMIN_PASSWORD
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

SOURCE_KEY = "wharf_source_sha256"  # in each dashboard's metadata: the files it was imported from
URL_ENV, ADMIN_USER_ENV, ADMIN_PASSWORD_ENV = "SUPERSET_URL", "SUPERSET_ADMIN_USER", "SUPERSET_ADMIN_PASSWORD"


class SupersetError(RuntimeError):
    pass


LINEAGE_NAMESPACE = "superset"  # the OpenLineage job namespace of the dashboards
PRODUCER = "https://wharf.dev/dashboards"


@dataclass(frozen=True)
class Bundle:
    """One dashboard's import bundle (a ZIP), the digest of the files it was rendered from, and
    the Trino tables its charts read."""

    slug: str
    digest: str
    zipped: bytes
    reads: tuple[str, ...] = ()


def lineage_event(bundle: Bundle, dataset_namespace: str) -> dict[str, Any]:
    """The OpenLineage event that puts dashboard `bundle.slug` in the lineage graph: a completed
    run of the job `dashboards.<slug>` reading the dashboard's tables. Its run id is derived from
    the dashboard's files, so re-sending it changes nothing."""
    return {
        "eventType": "COMPLETE",
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/{bundle.slug}/{bundle.digest}"))},
        "job": {"namespace": LINEAGE_NAMESPACE, "name": f"dashboards.{bundle.slug}"},
        "inputs": [{"namespace": dataset_namespace, "name": table} for table in bundle.reads],
        "outputs": [],
    }


def send_lineage(marquez_url: str, bundles: list[Bundle], dataset_namespace: str) -> None:
    """Tell Marquez which tables each dashboard reads (`dataset_namespace`: Trino's, trino://host:port)."""
    for bundle in bundles:
        answer = requests.post(
            f"{marquez_url}/api/v1/lineage", json=lineage_event(bundle, dataset_namespace), timeout=30
        )
        if not answer.ok:
            raise SupersetError(
                f"Marquez refused the lineage of {bundle.slug}: {answer.status_code} {answer.text[:500]}"
            )


class SupersetClient:
    """The admin's session: a JWT for reads, plus the session cookie and CSRF token Superset
    requires for every write."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        login = self.session.post(
            f"{url}/api/v1/security/login",
            json={"username": user, "password": password, "provider": "db", "refresh": False},
            timeout=60,
        )
        if not login.ok:
            raise SupersetError(f"logging in to {url} as {user}: {login.status_code} {login.text[:300]}")
        self.session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        token = self.get("/api/v1/security/csrf_token/")["result"]
        self.session.headers.update({"X-CSRFToken": token, "Referer": url})

    def _check(self, answer: requests.Response, what: str) -> requests.Response:
        if not answer.ok:
            raise SupersetError(f"{what}: {answer.status_code} {answer.text[:2000]}")
        return answer

    def get(self, path: str, **params: Any) -> Any:
        return self._check(
            self.session.get(f"{self.url}{path}", params=params, timeout=120), f"GET {path}"
        ).json()

    def import_assets(self, zipped: bytes) -> None:
        """Import a bundle, overwriting the objects with the same uuids (databases, datasets,
        charts, dashboards): the assets endpoint, since the CLI's dashboard import keeps old charts."""
        files = {"bundle": ("wharf_dashboards.zip", zipped, "application/zip")}
        answer = self.session.post(f"{self.url}/api/v1/assets/import/", files=files, timeout=300)
        self._check(answer, "importing a dashboard bundle")

    def dashboard_source(self, slug: str) -> str | None:
        """The digest of the files dashboard `slug` was imported from (None: not imported)."""
        answer = self.session.get(f"{self.url}/api/v1/dashboard/{slug}", timeout=60)
        if answer.status_code == 404:
            return None
        metadata = json.loads(
            self._check(answer, f"GET dashboard {slug}").json()["result"]["json_metadata"] or "{}"
        )
        source = metadata.get(SOURCE_KEY)
        return str(source) if source else None

    def contents(self, slug: str) -> tuple[set[int], set[int]]:
        """The ids of the charts on dashboard `slug` and of the datasets they read (none if absent)."""
        found: list[set[int]] = []
        for part in ("charts", "datasets"):
            answer = self.session.get(f"{self.url}/api/v1/dashboard/{slug}/{part}", timeout=60)
            if answer.status_code == 404:
                return set(), set()
            found.append({item["id"] for item in self._check(answer, f"GET {slug} {part}").json()["result"]})
        return found[0], found[1]

    def delete(self, resource: str, ids: set[int]) -> None:
        for key in sorted(ids):
            self._check(
                self.session.delete(f"{self.url}/api/v1/{resource}/{key}", timeout=60), f"DELETE {resource}"
            )


def import_dashboards(client: SupersetClient, bundles: list[Bundle]) -> list[str]:
    """Import each dashboard whose files differ from what Superset holds; return their slugs.
    An unchanged dashboard is not imported again, so a restart changes nothing in Superset; the
    charts and datasets a changed dashboard no longer has (renamed or removed) are deleted with it."""
    imported = []
    for bundle in bundles:
        if client.dashboard_source(bundle.slug) == bundle.digest:
            continue
        charts, datasets = client.contents(bundle.slug)
        client.import_assets(bundle.zipped)
        kept_charts, kept_datasets = client.contents(bundle.slug)
        client.delete("chart", charts - kept_charts)
        client.delete("dataset", datasets - kept_datasets)
        imported.append(bundle.slug)
    return imported


def _read(folder: Path) -> list[Bundle]:
    return [
        Bundle(zipped.stem, zipped.with_suffix(".sha256").read_text().strip(), zipped.read_bytes())
        for zipped in sorted(folder.glob("*.zip"))
    ]


def _client(url: str, user: str, password: str, timeout_s: float = 600) -> SupersetClient:
    """Log in, waiting for Superset to answer (the Job may start before the server is ready)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return SupersetClient(url, user, password)
        except (requests.ConnectionError, SupersetError) as error:
            if time.monotonic() > deadline:
                raise SupersetError(
                    f"Superset at {url} did not accept the login within {timeout_s} s: {error}"
                ) from error
            time.sleep(5)


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    client = _client(os.environ[URL_ENV], os.environ[ADMIN_USER_ENV], os.environ[ADMIN_PASSWORD_ENV])
    imported = import_dashboards(client, _read(Path(argv[0])))
    print(f"dashboards imported: {', '.join(imported) or 'none changed'}")


if __name__ == "__main__":
    main(sys.argv[1:])
