"""Send a domain's hostnames to one address, for laptops whose resolver ignores `*.localhost`.

The gateway answers on 127.0.0.1 for every `<service>.wharf.localhost`. Browsers and systemd-resolved
map `*.localhost` to loopback by themselves; Python's resolver (glibc, macOS) may not. Inside this
context, lookups of names under `domain` return `address`; TLS still checks the real hostname.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

GATEWAY_ADDRESS = "127.0.0.1"  # kind-config.yaml maps the gateway's NodePorts to it


@contextmanager
def hostnames_resolved_to(domain: str, address: str) -> Iterator[None]:
    original = socket.getaddrinfo
    suffix = "." + domain.strip(".")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and (host.endswith(suffix) or host == suffix[1:]):
            host = address
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = original
