"""The Gateway API objects: Traefik's GatewayClass, wharf's Gateway and one HTTPRoute per UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.core.config import PlatformConfig
from wharf_infra.deploy.components.component import child_name
from wharf_infra.deploy.components.gateway.operators import CONTROLLER, ENTRY_POINTS
from wharf_infra.deploy.components.gateway.resources import COMPONENT, custom
from wharf_infra.deploy.components.gateway.tls import TLS_SECRET
from wharf_infra.deploy.labels import metadata

GATEWAY = "wharf"
GATEWAY_CLASS = "wharf"
GATEWAY_API = "gateway.networking.k8s.io/v1"
SAME_NAMESPACE = {"namespaces": {"from": "Same"}}


@dataclass(frozen=True)
class Route:
    """One hostname and the Service behind it; `extra_paths` send path prefixes to other Services."""

    name: str
    service: str
    port: int
    protected: bool
    extra_paths: tuple[tuple[str, str, int], ...] = ()  # (path prefix, service, port)


@dataclass(frozen=True)
class Login:
    """What the login puts on a protected route: filters before the backend, and paths of its own
    (oauth2-proxy's callback) that are served unprotected on every protected host."""

    filters: tuple[dict[str, Any], ...]
    paths: tuple[tuple[str, str, int], ...] = ()


def gateway(config: PlatformConfig, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """The GatewayClass Traefik serves and the Gateway: HTTP (redirects, ACME) and HTTPS listeners."""
    class_name, class_opts = child_name(f"gatewayclass-{GATEWAY_CLASS}", opts)
    gateway_class = k8s.apiextensions.CustomResource(
        class_name,
        api_version=GATEWAY_API,
        kind="GatewayClass",
        metadata={"name": GATEWAY_CLASS, "labels": metadata(GATEWAY_CLASS, "", COMPONENT)["labels"]},
        spec={"controllerName": CONTROLLER},
        opts=class_opts,
    )
    https = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]}
    return custom(
        GATEWAY,
        GATEWAY_API,
        "Gateway",
        config.namespace,
        {
            "gatewayClassName": GATEWAY_CLASS,
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "port": ENTRY_POINTS["web"],
                    "allowedRoutes": SAME_NAMESPACE,
                },
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": ENTRY_POINTS["websecure"],
                    "tls": https,
                    "allowedRoutes": SAME_NAMESPACE,
                },
            ],
        },
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[gateway_class])),
    )


def routes(
    config: PlatformConfig, routes: tuple[Route, ...], login: Login, opts: pulumi.ResourceOptions
) -> None:
    """HTTP → HTTPS for every host, then each UI's HTTPRoute on the HTTPS listener."""
    hosts = [config.host(route.name) for route in routes]
    redirect = {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    custom(
        "https-redirect",
        GATEWAY_API,
        "HTTPRoute",
        config.namespace,
        {
            "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
            "hostnames": hosts,
            "rules": [{"filters": [redirect]}],
        },
        opts,
    )
    for route in routes:
        backends = [(prefix, service, port, route.protected) for prefix, service, port in route.extra_paths]
        backends.append(("/", route.service, route.port, route.protected))
        if route.protected:
            backends[:0] = [(prefix, service, port, False) for prefix, service, port in login.paths]
        rules = [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": prefix}}],
                "filters": list(login.filters) if protected else [],
                "backendRefs": [{"name": service, "port": port}],
            }
            for prefix, service, port, protected in backends
        ]
        custom(
            route.name,
            GATEWAY_API,
            "HTTPRoute",
            config.namespace,
            {
                "parentRefs": [{"name": GATEWAY, "sectionName": "https"}],
                "hostnames": [config.host(route.name)],
                "rules": rules,
            },
            opts,
        )
