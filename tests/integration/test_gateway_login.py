"""The cloud stacks' login, for real: through Traefik's forwardAuth and oauth2-proxy to an OIDC
provider (Keycloak) and back, until a logged-in session reaches Dagster's GraphQL on the stack."""

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from oidc_gateway import DOMAIN, OidcGateway, oidc_gateway

from wharf_infra.local.resolution import hostnames_resolved_to
from wharf_infra.native.settings import settings

LOGIN_FORM = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"')


@pytest.fixture(scope="module")
def gateway(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcGateway]:
    state: Path = tmp_path_factory.mktemp("oidc-gateway")
    with (
        oidc_gateway(state, settings().url("dagster")) as running,
        hostnames_resolved_to(DOMAIN, "127.0.0.1"),
    ):
        yield running


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost") or host.endswith(".localhost")


class Browser(requests.Session):
    """A client that treats loopback as browsers do, as a secure context: a `Secure` cookie
    (Keycloak's session cookies are) set by a loopback host is sent back to it over plain HTTP."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        for cookie in self.cookies:
            if cookie.secure and _loopback(cookie.domain.lstrip(".")):
                cookie.secure = False
        return super().prepare_request(request)


def _sign_in(session: requests.Session, gateway: OidcGateway, password: str) -> requests.Response:
    """From an anonymous request to the provider's answer to the login form (not followed)."""
    sent = session.get(f"{gateway.url}/graphql", allow_redirects=False)
    assert sent.status_code == 302, sent.text[:300]
    login_page = session.get(sent.headers["Location"])
    assert login_page.status_code == 200
    action = LOGIN_FORM.search(login_page.text)
    assert action, "the provider's login page has no login form"
    form = {"username": gateway.user, "password": password, "credentialId": ""}
    return session.post(html.unescape(action.group(1)), data=form, allow_redirects=False)


def test_an_anonymous_request_is_sent_to_the_provider(gateway: OidcGateway) -> None:
    answer = requests.get(f"{gateway.url}/graphql", allow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{gateway.issuer}/protocol/openid-connect/auth?")
    assert f"redirect_uri=http%3A%2F%2Fdagster.{DOMAIN}" in location


def test_a_wrong_password_gets_no_session(gateway: OidcGateway) -> None:
    session = Browser()
    refused = _sign_in(session, gateway, "not-the-password")
    assert refused.status_code != 302 and "Invalid username or password" in refused.text  # the form again
    assert session.get(f"{gateway.url}/graphql", allow_redirects=False).status_code == 302


def test_a_logged_in_session_reaches_dagster_graphql(gateway: OidcGateway) -> None:
    session = Browser()
    back = _sign_in(session, gateway, gateway.password)
    assert back.status_code == 302
    callback = back.headers["Location"]
    assert urlsplit(callback).path == "/oauth2/callback", callback
    returned = session.get(callback, allow_redirects=False)  # oauth2-proxy sets the session cookie
    assert returned.status_code == 302 and returned.headers["Location"].endswith("/graphql")
    answer = session.post(f"{gateway.url}/graphql", json={"query": "{ version }"})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["data"]["version"]
