"""A Job that ends once an operator's admission webhook answers through its Service.

A custom resource created the moment its operator's release is ready can still meet a webhook
Service the node does not route yet (its rules are written a few seconds after the endpoint turns
ready, later on a loaded node): the API server's call fails and Pulumi does not retry a refused
creation. The Job's pod sits in the webhook's namespace, behind the same Service routing, and ends
when the Service answers TLS with the webhook's own certificate (its name in the certificate:
anything else answering on that address, such as a proxy, is not the webhook). Resources that need
the webhook depend on the Job, which Pulumi awaits to completion.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.deploy.components.component import child_name
from wharf_infra.deploy.components.security import container_security, pod_security, resources
from wharf_infra.deploy.labels import metadata

COMPONENT = "webhook-wait"
PORT = 443
WAIT_S = 600

PROBE = """
import socket, ssl, sys, time
host = sys.argv[1]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the webhook's CA is the operator's own; its name is checked
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with socket.create_connection((host, int(sys.argv[3])), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                if host.encode() in tls.getpeercert(binary_form=True):
                    sys.exit(0)
    except OSError:
        pass
    time.sleep(2)
sys.exit(f"{host} did not answer with its certificate within {sys.argv[2]} s")
"""


def webhook_ready(service: str, namespace: str, image: str, opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
    """A Job in `namespace` that completes once `service`'s webhook answers; `image` needs Python."""
    name = f"{service}-ready"
    host = f"{service}.{namespace}.svc"
    return k8s.batch.v1.Job(
        *child_name(name, opts),
        metadata=metadata(name, namespace, COMPONENT),
        spec={
            "backoffLimit": 2,
            "template": {
                "metadata": {"labels": metadata(name, namespace, COMPONENT)["labels"]},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(),
                    "containers": [
                        {
                            "name": "wait",
                            "image": image,
                            "command": ["python", "-c", PROBE, host, str(WAIT_S), str(PORT)],
                            "securityContext": container_security(),
                            "resources": resources("10m", "32Mi", "200m", "64Mi"),
                        }
                    ],
                },
            },
        },
    )
