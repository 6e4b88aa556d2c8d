"""The gateway's certificate: from a local CA (local stacks) or ACME through the gateway (cloud)."""

from __future__ import annotations

import pulumi

from wharf_infra.contract.facts import CA_SECRET
from wharf_infra.core.config import PlatformConfig
from wharf_infra.deploy.components.gateway.resources import custom

TLS_SECRET = "wharf-gateway-tls"
CERT_MANAGER = "cert-manager.io/v1"
ACME_ISSUER = "wharf-acme"
SELF_SIGNED_ISSUER = "wharf-selfsigned"
CA_ISSUER = "wharf-ca-issuer"


def _issuer(
    config: PlatformConfig, gateway: str, cert_manager_namespace: str, opts: pulumi.ResourceOptions
) -> str:
    """Create the ClusterIssuer certificates come from; return its name."""
    if config.tls.issuer == "acme":
        http01 = {
            "gatewayHTTPRoute": {
                "parentRefs": [{"name": gateway, "namespace": config.namespace, "sectionName": "http"}]
            }
        }
        spec = {
            "acme": {
                "server": config.tls.acme_server,
                "email": config.tls.acme_email,
                "privateKeySecretRef": {"name": f"{ACME_ISSUER}-account"},
                "solvers": [{"http01": http01}],
            }
        }
        custom(ACME_ISSUER, CERT_MANAGER, "ClusterIssuer", None, spec, opts)
        return ACME_ISSUER
    # A self-signed root, a CA certificate from it, and the CA issuer the gateway uses.
    custom(SELF_SIGNED_ISSUER, CERT_MANAGER, "ClusterIssuer", None, {"selfSigned": {}}, opts)
    custom(
        CA_SECRET,
        CERT_MANAGER,
        "Certificate",
        cert_manager_namespace,
        {
            "isCA": True,
            "commonName": "wharf local CA",
            "secretName": CA_SECRET,
            "duration": "87600h",
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"kind": "ClusterIssuer", "name": SELF_SIGNED_ISSUER, "group": "cert-manager.io"},
        },
        opts,
    )
    custom(CA_ISSUER, CERT_MANAGER, "ClusterIssuer", None, {"ca": {"secretName": CA_SECRET}}, opts)
    return CA_ISSUER


def certificate(
    config: PlatformConfig,
    gateway: str,
    hosts: list[str],
    cert_manager_namespace: str,
    opts: pulumi.ResourceOptions,
) -> None:
    """The one certificate of every UI host, in `TLS_SECRET`, which the HTTPS listener serves."""
    issuer = _issuer(config, gateway, cert_manager_namespace, opts)
    custom(
        TLS_SECRET,
        CERT_MANAGER,
        "Certificate",
        config.namespace,
        {
            "secretName": TLS_SECRET,
            "dnsNames": hosts,
            "issuerRef": {"kind": "ClusterIssuer", "name": issuer, "group": "cert-manager.io"},
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        },
        opts,
    )
