"""The login in front of the protected UIs (the open-source Dagster UI has none of its own).

Local stacks: a Traefik basicAuth middleware over generated passwords, which removes the
`Authorization` header before the backend (Trino, for one, refuses a password over its plain-HTTP
listener). Cloud stacks: OIDC through oauth2-proxy, asked by a forwardAuth middleware on every
request: a session cookie lets it through (202), none sends the browser to the provider; its
callback `/oauth2/` is routed to it on every protected host.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.facts import LOGIN_SECRET
from wharf_infra.core.config import PlatformConfig
from wharf_infra.core.versions import versions
from wharf_infra.deploy.components.component import child_name
from wharf_infra.deploy.components.gateway.resources import COMPONENT, custom
from wharf_infra.deploy.components.gateway.routes import Login
from wharf_infra.deploy.components.secrets import generated_password, secret, secret_env
from wharf_infra.deploy.components.security import container_security, pod_security, resources
from wharf_infra.deploy.labels import labels, metadata, selector

MIDDLEWARE = "wharf-login"
BASIC_AUTH_SECRET = "wharf-basic-auth"
OIDC_SECRET = "wharf-oidc-client"
OAUTH2_PROXY = "oauth2-proxy"
OAUTH2_PROXY_PORT = 4180
OAUTH2_PROXY_USER = 65532  # the nonroot user of oauth2-proxy's distroless image
STRIP_AUTHORIZATION = {
    "type": "RequestHeaderModifier",
    "requestHeaderModifier": {"remove": ["Authorization"]},
}
USE_MIDDLEWARE = {
    "type": "ExtensionRef",
    "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": MIDDLEWARE},
}


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd entry in the `{SHA}` form Traefik's basicAuth accepts."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}"


def _middleware(namespace: str, spec: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
    custom(MIDDLEWARE, "traefik.io/v1alpha1", "Middleware", namespace, spec, opts)


def basic_auth(config: PlatformConfig, opts: pulumi.ResourceOptions) -> Login:
    """Generated passwords, the first user's handed over in `LOGIN_SECRET`."""
    users = config.auth.basic_users
    passwords = {user: generated_password(f"ui-login-{user}", opts) for user in users}
    secret(
        LOGIN_SECRET,
        config.namespace,
        COMPONENT,
        {"username": users[0], "password": passwords[users[0]]},
        opts,
    )
    htpasswd = pulumi.Output.all(*passwords.values()).apply(
        lambda resolved: "\n".join(htpasswd_line(u, p) for u, p in zip(users, resolved, strict=True)) + "\n"
    )
    secret(BASIC_AUTH_SECRET, config.namespace, COMPONENT, {"users": pulumi.Output.secret(htpasswd)}, opts)
    _middleware(
        config.namespace,
        {"basicAuth": {"secret": BASIC_AUTH_SECRET, "removeHeader": True, "realm": "wharf"}},
        opts,
    )
    return Login(filters=(USE_MIDDLEWARE,))


def oauth2_proxy_args(
    issuer: str, client_id: str, domain: str, https: bool = True, listen: str = f"0.0.0.0:{OAUTH2_PROXY_PORT}"
) -> list[str]:
    """oauth2-proxy as an answer to forwardAuth: 202 with a session, else off to the provider.

    The client and cookie secrets come from its environment. `https` False is loopback only (the
    gateway tier): cookies without `Secure`, redirects to any port of the domain's hosts."""
    return [
        "--provider=oidc",
        f"--oidc-issuer-url={issuer}",
        f"--client-id={client_id}",
        "--email-domain=*",
        "--upstream=static://202",
        f"--http-address={listen}",
        "--reverse-proxy=true",
        "--skip-provider-button=true",
        "--set-xauthrequest=true",
        f"--cookie-secure={str(https).lower()}",
        f"--cookie-domain=.{domain}",
        f"--whitelist-domain=.{domain}{'' if https else ':*'}",
    ]


def forward_auth(address: str) -> dict[str, object]:
    """The forwardAuth middleware that asks oauth2-proxy at `address` about every request."""
    return {
        "address": address,
        "trustForwardHeader": True,
        "authResponseHeaders": ["X-Auth-Request-User", "X-Auth-Request-Email"],
    }


def oidc(config: PlatformConfig, client_secret: pulumi.Input[str], opts: pulumi.ResourceOptions) -> Login:
    """oauth2-proxy with the stack's client and a generated cookie secret, behind forwardAuth."""
    namespace = config.namespace
    assert config.auth.oidc is not None  # checked by the config model
    cookie_secret = generated_password("oauth2-proxy-cookie", opts)  # 32 characters: an AES-256 key
    secret(
        OIDC_SECRET,
        namespace,
        COMPONENT,
        {"client-secret": client_secret, "cookie-secret": cookie_secret},
        opts,
    )
    env = secret_env(
        OIDC_SECRET,
        {"OAUTH2_PROXY_CLIENT_SECRET": "client-secret", "OAUTH2_PROXY_COOKIE_SECRET": "cookie-secret"},
    )
    version = versions().image_version("oauth2_proxy")
    k8s.apps.v1.Deployment(
        *child_name(OAUTH2_PROXY, opts),
        metadata=metadata(OAUTH2_PROXY, namespace, COMPONENT, version),
        spec={
            "replicas": 1,
            "selector": {"matchLabels": selector(OAUTH2_PROXY)},
            "template": {
                "metadata": {"labels": labels(OAUTH2_PROXY, COMPONENT, version)},
                "spec": {
                    "securityContext": pod_security(OAUTH2_PROXY_USER, OAUTH2_PROXY_USER),
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": OAUTH2_PROXY,
                            "image": config.image_source.reference("oauth2_proxy"),
                            "args": oauth2_proxy_args(
                                config.auth.oidc.issuer, config.auth.oidc.client_id, config.domain
                            ),
                            "env": env,
                            "ports": [{"name": "http", "containerPort": OAUTH2_PROXY_PORT}],
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                            "securityContext": container_security(),
                            "resources": resources("20m", "32Mi", "200m", "128Mi"),
                        }
                    ],
                },
            },
        },
    )
    k8s.core.v1.Service(
        *child_name(OAUTH2_PROXY, opts),
        metadata=metadata(OAUTH2_PROXY, namespace, COMPONENT, version),
        spec={
            "selector": selector(OAUTH2_PROXY),
            "ports": [{"name": "http", "port": OAUTH2_PROXY_PORT, "targetPort": "http"}],
        },
    )
    address = f"http://{OAUTH2_PROXY}.{namespace}.svc:{OAUTH2_PROXY_PORT}/"
    _middleware(namespace, {"forwardAuth": forward_auth(address)}, opts)
    return Login(
        filters=(USE_MIDDLEWARE, STRIP_AUTHORIZATION), paths=(("/oauth2/", OAUTH2_PROXY, OAUTH2_PROXY_PORT),)
    )
