"""Trino as a Dagster resource: queries, checks and table maintenance go through it."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field


def _session_trusting(ca_bundle: str) -> Any:
    """A requests session that verifies with `ca_bundle` even where REQUESTS_CA_BUNDLE is set
    (requests lets that variable override a session's own `verify`): it reads no environment
    (proxies, netrc) at all, which a server signed by a private CA does not need."""
    import requests

    session = requests.Session()
    session.verify = ca_bundle
    session.trust_env = False
    return session


class TrinoResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    host: str = "localhost"
    port: int = 8080
    user: str = "wharf"
    password: str | None = Field(default=None, description="Set only with https; basic auth")
    http_scheme: str = "http"
    ca_bundle: str | None = Field(default=None, description="CA certificates for https (a private CA)")
    catalog: str = "lake"
    request_timeout_s: float = 300.0

    @property
    def lineage_namespace(self) -> str:
        """How Trino's OpenLineage listener names this server: datasets join on it in Marquez."""
        return f"trino://{self.host}:{self.port}"

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and return every row (statements without rows return [])."""
        return self._run(sql, params)[1]

    def records(self, sql: str, params: tuple[Any, ...] | None = None) -> list[dict[str, Any]]:
        """Run one query and return its rows by column name."""
        names, rows = self._run(sql, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _run(self, sql: str, params: tuple[Any, ...] | None) -> tuple[list[str], list[tuple[Any, ...]]]:
        import trino

        auth = trino.auth.BasicAuthentication(self.user, self.password) if self.password else None
        with trino.dbapi.connect(  # type: ignore[no-untyped-call]
            host=self.host,
            port=self.port,
            user=self.user,
            catalog=self.catalog,
            http_scheme=self.http_scheme,
            auth=auth,
            verify=self.ca_bundle or True,
            http_session=_session_trusting(self.ca_bundle) if self.ca_bundle else None,
            request_timeout=self.request_timeout_s,
        ) as connection:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            rows = [tuple(row) for row in cursor.fetchall()]
            return [column[0] for column in cursor.description or []], rows
