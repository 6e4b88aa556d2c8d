"""The entry: Envoy Gateway with one Gateway, TLS from cert-manager, routes, and auth in front.

Local stacks get a self-signed CA and basic auth; cloud stacks ACME certificates and OIDC. The
Dagster and Marquez UIs and Trino sit behind the SecurityPolicy (the open-source Dagster UI has no
auth of its own); the MinIO console keeps its own login.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.facts import CA_SECRET, LOGIN_SECRET
from wharf_infra.contract.facts import GATEWAY_HTTPS_PORT as HTTPS_PORT
from wharf_infra.core.config import PlatformConfig
from wharf_infra.core.versions import versions
from wharf_infra.deploy.components.release import Charts, helm_release
from wharf_infra.deploy.components.secrets import generated_password, secret
from wharf_infra.deploy.components.security import container_security, pod_security
from wharf_infra.deploy.labels import metadata

GATEWAY = "wharf"
GATEWAY_CLASS = "wharf"
TLS_SECRET = "wharf-gateway-tls"
HTTP_PORT = 80
BASIC_AUTH_SECRET = "wharf-basic-auth"
ENVOY_USER = 65532  # the uid Envoy Gateway's proxy image runs as
OIDC_SECRET = "wharf-oidc-client"
STRIP_AUTHORIZATION = {
    "type": "RequestHeaderModifier",
    "requestHeaderModifier": {"remove": ["Authorization"]},
}


@dataclass(frozen=True)
class Route:
    """One hostname and the Service behind it; `rules` splits paths to other Services if given."""

    name: str
    service: str
    port: int
    protected: bool
    extra_paths: tuple[tuple[str, str, int], ...] = ()  # (path prefix, service, port)


@dataclass(frozen=True)
class GatewayArgs:
    charts: Charts
    config: PlatformConfig
    gateway_namespace: str
    cert_manager_namespace: str
    routes: tuple[Route, ...]
    oidc_client_secret: pulumi.Input[str] | None = None


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd entry in the `{SHA}` form Envoy Gateway accepts."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}"


def _custom(
    name: str,
    api_version: str,
    kind: str,
    namespace: str | None,
    spec: dict[str, Any],
    opts: pulumi.ResourceOptions,
    component: str = "gateway",
) -> k8s.apiextensions.CustomResource:
    meta = metadata(name, namespace or "", component)
    if namespace is None:
        meta.pop("namespace")
    return k8s.apiextensions.CustomResource(
        f"{kind.lower()}-{name}", api_version=api_version, kind=kind, metadata=meta, spec=spec, opts=opts
    )


class Gateway(pulumi.ComponentResource):
    """Outputs `urls` (route name → https URL) and `login_secret` (the basic-auth user, local only)."""

    urls: dict[str, str]
    login_secret: str | None

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wharf:platform:Gateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config = args.config
        namespace = config.namespace
        cert_manager = helm_release(
            "cert-manager",
            "cert-manager",
            args.cert_manager_namespace,
            args.charts,
            {
                "image": versions().image_values("cert_manager_controller"),
                **{
                    part: {"image": versions().image_values(f"cert_manager_{part}")}
                    for part in ("webhook", "cainjector", "startupapicheck")
                },
            },
            child,
        )
        envoy = helm_release(
            "gateway-helm",
            "envoy-gateway",
            args.gateway_namespace,
            args.charts,
            {"global": {"images": {"envoyGateway": {"image": versions().image("envoy_gateway")}}}},
            child,
        )
        with_crds = pulumi.ResourceOptions(parent=self, depends_on=[cert_manager, envoy])

        proxy_service: dict[str, Any] = {"type": config.gateway.service_type}
        if config.gateway.service_type == "NodePort":
            # Fixed NodePorts, which kind-config.yaml maps to the laptop's ports 80 and 443.
            proxy_service["patch"] = {
                "type": "StrategicMerge",
                "value": {
                    "spec": {
                        "ports": [
                            {"port": HTTP_PORT, "nodePort": config.gateway.http_node_port},
                            {"port": HTTPS_PORT, "nodePort": config.gateway.https_node_port},
                        ]
                    }
                },
            }
        _custom(
            "wharf-proxy",
            "gateway.envoyproxy.io/v1alpha1",
            "EnvoyProxy",
            args.gateway_namespace,
            {
                "provider": {
                    "type": "Kubernetes",
                    "kubernetes": {
                        "envoyService": proxy_service,
                        "envoyDeployment": {
                            # Envoy's own user; what PodSecurity `restricted` asks of the namespace.
                            "pod": {"securityContext": pod_security(ENVOY_USER, ENVOY_USER)},
                            "container": {
                                "securityContext": container_security(),
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "128Mi"},
                                    "limits": {"cpu": "1", "memory": "512Mi"},
                                },
                            },
                        },
                    },
                },
            },
            with_crds,
        )
        gateway_class = k8s.apiextensions.CustomResource(
            "gatewayclass-wharf",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata={"name": GATEWAY_CLASS, "labels": metadata(GATEWAY_CLASS, "", "gateway")["labels"]},
            spec={
                "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                "parametersRef": {
                    "group": "gateway.envoyproxy.io",
                    "kind": "EnvoyProxy",
                    "name": "wharf-proxy",
                    "namespace": args.gateway_namespace,
                },
            },
            opts=with_crds,
        )
        issuer = self._issuers(args, with_crds)
        hosts = [config.host(route.name) for route in args.routes]
        _custom(
            TLS_SECRET,
            "cert-manager.io/v1",
            "Certificate",
            namespace,
            {
                "secretName": TLS_SECRET,
                "dnsNames": hosts,
                "issuerRef": {"kind": "ClusterIssuer", "name": issuer, "group": "cert-manager.io"},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            },
            with_crds,
        )
        gateway = _custom(
            GATEWAY,
            "gateway.networking.k8s.io/v1",
            "Gateway",
            namespace,
            {
                "gatewayClassName": GATEWAY_CLASS,
                "listeners": [
                    {
                        "name": "http",
                        "protocol": "HTTP",
                        "port": HTTP_PORT,
                        "allowedRoutes": {"namespaces": {"from": "Same"}},
                    },
                    {
                        "name": "https",
                        "protocol": "HTTPS",
                        "port": HTTPS_PORT,
                        "tls": {
                            "mode": "Terminate",
                            "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}],
                        },
                        "allowedRoutes": {"namespaces": {"from": "Same"}},
                    },
                ],
            },
            pulumi.ResourceOptions(parent=self, depends_on=[gateway_class]),
        )
        after_gateway = pulumi.ResourceOptions(parent=self, depends_on=[gateway])
        _custom(
            "https-redirect",
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            namespace,
            {
                "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
                "hostnames": hosts,
                "rules": [
                    {
                        "filters": [
                            {
                                "type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301},
                            }
                        ]
                    }
                ],
            },
            after_gateway,
        )
        for route in args.routes:
            # The gateway's login stays at the gateway: Trino, for one, refuses a password over
            # its plain-HTTP listener. Route filters apply after the SecurityPolicy has checked it.
            filters = [STRIP_AUTHORIZATION] if route.protected else []
            backends = [
                *route.extra_paths,
                ("/", route.service, route.port),
            ]
            rules: list[dict[str, Any]] = [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": prefix}}],
                    "filters": filters,
                    "backendRefs": [{"name": service, "port": port}],
                }
                for prefix, service, port in backends
            ]
            _custom(
                route.name,
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                namespace,
                {
                    "parentRefs": [{"name": GATEWAY, "sectionName": "https"}],
                    "hostnames": [config.host(route.name)],
                    "rules": rules,
                },
                after_gateway,
            )
        self.login_secret = self._auth(args, after_gateway)
        self.urls = {route.name: f"https://{config.host(route.name)}" for route in args.routes}
        self.register_outputs({"urls": self.urls})

    def _issuers(self, args: GatewayArgs, opts: pulumi.ResourceOptions) -> str:
        """Create the ClusterIssuer certificates come from and return its name."""
        if args.config.tls.issuer == "acme":
            _custom(
                "wharf-acme",
                "cert-manager.io/v1",
                "ClusterIssuer",
                None,
                {
                    "acme": {
                        "server": args.config.tls.acme_server,
                        "email": args.config.tls.acme_email,
                        "privateKeySecretRef": {"name": "wharf-acme-account"},
                        "solvers": [
                            {
                                "http01": {
                                    "gatewayHTTPRoute": {
                                        "parentRefs": [
                                            {
                                                "name": GATEWAY,
                                                "namespace": args.config.namespace,
                                                "sectionName": "http",
                                            }
                                        ]
                                    }
                                }
                            }
                        ],
                    }
                },
                opts,
            )
            return "wharf-acme"
        # A self-signed root, a CA certificate from it, and the CA issuer the gateway uses.
        _custom("wharf-selfsigned", "cert-manager.io/v1", "ClusterIssuer", None, {"selfSigned": {}}, opts)
        _custom(
            CA_SECRET,
            "cert-manager.io/v1",
            "Certificate",
            args.cert_manager_namespace,
            {
                "isCA": True,
                "commonName": "wharf local CA",
                "secretName": CA_SECRET,
                "duration": "87600h",
                "privateKey": {"algorithm": "ECDSA", "size": 256},
                "issuerRef": {
                    "kind": "ClusterIssuer",
                    "name": "wharf-selfsigned",
                    "group": "cert-manager.io",
                },
            },
            opts,
        )
        _custom(
            "wharf-ca-issuer",
            "cert-manager.io/v1",
            "ClusterIssuer",
            None,
            {"ca": {"secretName": CA_SECRET}},
            opts,
        )
        return "wharf-ca-issuer"

    def _auth(self, args: GatewayArgs, opts: pulumi.ResourceOptions) -> str | None:
        namespace = args.config.namespace
        protected = [
            {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": r.name}
            for r in args.routes
            if r.protected
        ]
        auth = args.config.auth
        login: str | None = None
        if auth.mode == "oidc":
            assert auth.oidc is not None and args.oidc_client_secret is not None
            secret(OIDC_SECRET, namespace, "gateway", {"client-secret": args.oidc_client_secret}, opts)
            method: dict[str, Any] = {
                "oidc": {
                    "provider": {"issuer": auth.oidc.issuer},
                    "clientID": auth.oidc.client_id,
                    "clientSecret": {"name": OIDC_SECRET},
                    "scopes": ["openid", "email", "profile"],
                }
            }
        else:
            passwords = {user: generated_password(f"ui-login-{user}", opts) for user in auth.basic_users}
            first = auth.basic_users[0]
            secret(
                LOGIN_SECRET, namespace, "gateway", {"username": first, "password": passwords[first]}, opts
            )
            htpasswd = pulumi.Output.all(*passwords.values()).apply(
                lambda resolved: (
                    "\n".join(htpasswd_line(u, p) for u, p in zip(auth.basic_users, resolved, strict=True))
                    + "\n"
                )
            )
            secret(
                BASIC_AUTH_SECRET, namespace, "gateway", {".htpasswd": pulumi.Output.secret(htpasswd)}, opts
            )
            method = {"basicAuth": {"users": {"name": BASIC_AUTH_SECRET}}}
            login = LOGIN_SECRET
        _custom(
            "wharf-ui-auth",
            "gateway.envoyproxy.io/v1alpha1",
            "SecurityPolicy",
            namespace,
            {"targetRefs": protected, **method},
            opts,
        )
        return login
