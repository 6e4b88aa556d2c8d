"""The gateway's operators: cert-manager (certificates) and Traefik (the Gateway API data plane).

Traefik runs its Gateway API provider (the routes) and its CRD provider (the login middlewares);
its Ingress provider, its own Gateway and GatewayClass and its dashboard are off (helm/traefik).
The chart ships the Gateway API CRDs of the standard channel at the version Traefik 3.6 implements
(v1.4.0), so the CRDs and the controller cannot drift apart. A Gateway listener's port must equal
an entry point's port: the Service maps 80 and 443 to `ENTRY_POINTS`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.facts import GATEWAY_HTTPS_PORT
from wharf_infra.core.config import GatewaySettings
from wharf_infra.core.image_tags import Images
from wharf_infra.core.versions import versions
from wharf_infra.deploy.components.release import Charts, helm_release

HTTP_PORT = 80
ENTRY_POINTS = {"web": 8000, "websecure": 8443}  # Traefik's container ports, the listeners' ports
EXPOSED = {"web": HTTP_PORT, "websecure": GATEWAY_HTTPS_PORT}
CONTROLLER = "traefik.io/gateway-controller"
RELEASE = "traefik"


def traefik_image(images: Images) -> dict[str, str]:
    """The pinned image as the chart takes it: registry, repository and tag apart."""
    reference = images.values("traefik")
    registry, _, repository = reference["repository"].partition("/")
    return {"registry": registry, "repository": repository, "tag": reference["tag"]}


def traefik_values(settings: GatewaySettings, images: Images) -> dict[str, Any]:
    """What the stack decides: the image, the Service type and, on kind, the fixed NodePorts
    that kind-config.yaml maps to the laptop's ports 80 and 443."""
    node_ports = {"web": settings.http_node_port, "websecure": settings.https_node_port}
    return {
        "image": traefik_image(images),
        # The chart reads Traefik's version from the image tag, which a built image's content tag
        # is not: the version the image runs, stated.
        "versionOverride": versions().image_version("traefik"),
        "service": {"type": settings.service_type},
        "ports": {
            name: {
                "port": port,
                "exposedPort": EXPOSED[name],
                **({"nodePort": node_ports[name]} if settings.service_type == "NodePort" else {}),
            }
            for name, port in ENTRY_POINTS.items()
        },
    }


def install(
    charts: Charts,
    settings: GatewaySettings,
    images: Images,
    gateway_namespace: str,
    cert_manager_namespace: str,
    opts: pulumi.ResourceOptions,
) -> list[k8s.helm.v3.Release]:
    cert_manager = helm_release(
        "cert-manager",
        "cert-manager",
        cert_manager_namespace,
        charts,
        {
            "image": images.values("cert_manager_controller"),
            **{
                part: {"image": images.values(f"cert_manager_{part}")}
                for part in ("webhook", "cainjector", "startupapicheck")
            },
        },
        opts,
    )
    traefik = helm_release(
        "traefik", RELEASE, gateway_namespace, charts, traefik_values(settings, images), opts
    )
    return [cert_manager, traefik]
