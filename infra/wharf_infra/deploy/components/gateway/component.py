"""The Gateway component: operators, TLS, routes and the login, for one stack."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from wharf_infra.contract.facts import LOGIN_SECRET
from wharf_infra.core.config import PlatformConfig
from wharf_infra.deploy.components.component import Component
from wharf_infra.deploy.components.gateway import login, operators, routes, tls
from wharf_infra.deploy.components.gateway.routes import Route
from wharf_infra.deploy.components.release import Charts


@dataclass(frozen=True)
class GatewayArgs:
    charts: Charts
    config: PlatformConfig
    gateway_namespace: str
    cert_manager_namespace: str
    routes: tuple[Route, ...]
    oidc_client_secret: pulumi.Input[str] | None = None


class Gateway(Component):
    """Outputs `urls` (route name → https URL) and `login_secret` (the basic-auth login, local only)."""

    urls: dict[str, str]
    login_secret: str | None

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Gateway", name, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        releases = operators.install(
            args.charts,
            config.gateway,
            config.image_source,
            args.gateway_namespace,
            args.cert_manager_namespace,
            child,
        )
        with_crds = pulumi.ResourceOptions(parent=self, depends_on=releases)
        hosts = [config.host(route.name) for route in args.routes]
        tls.certificate(config, routes.GATEWAY, hosts, args.cert_manager_namespace, with_crds)
        gateway = routes.gateway(config, with_crds)
        after_gateway = pulumi.ResourceOptions(parent=self, depends_on=[gateway])
        if config.auth.mode == "oidc":
            assert args.oidc_client_secret is not None  # the platform program requires it
            front = login.oidc(config, args.oidc_client_secret, after_gateway)
            self.login_secret = None
        else:
            front = login.basic_auth(config, after_gateway)
            self.login_secret = LOGIN_SECRET
        routes.routes(config, args.routes, front, after_gateway)
        self.urls = {route.name: f"https://{config.host(route.name)}" for route in args.routes}
        self.register_outputs({"urls": self.urls})
