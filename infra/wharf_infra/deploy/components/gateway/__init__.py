"""The entry: Traefik as the Gateway API implementation, TLS from cert-manager, a login in front.

`operators` installs cert-manager and Traefik; `tls` makes the issuer and the certificate;
`routes` the GatewayClass, the Gateway, the HTTP → HTTPS redirect and one HTTPRoute per UI;
`login` puts basic auth (local stacks) or OIDC through oauth2-proxy (cloud stacks) in front of the
protected routes as a Traefik middleware; `component` wires them into one ComponentResource.
"""

from wharf_infra.deploy.components.gateway.component import Gateway, GatewayArgs
from wharf_infra.deploy.components.gateway.login import htpasswd_line
from wharf_infra.deploy.components.gateway.routes import Route

__all__ = ["Gateway", "GatewayArgs", "Route", "htpasswd_line"]
