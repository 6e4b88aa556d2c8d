"""The native stack's Node preload: a server given only a port, as Marquez's web UI starts its own,
listens on loopback; one given a host keeps it. Real Node, real sockets."""

import json
import os
import subprocess

import pytest

from wharf_infra.native.marquez_web import LOOPBACK_PRELOAD, node_runtime
from wharf_infra.native.processes import StackError

# Listens as express's `app.listen(port, callback)` does, prints the bound address, and exits.
SERVER = """
const server = require('http').createServer();
const done = () => { console.log(JSON.stringify(server.address())); server.close(); };
const host = process.argv[1];
host ? server.listen(0, host, done) : server.listen(0, done);
"""


@pytest.fixture(scope="module")
def node() -> str:
    try:
        return str(node_runtime())
    except StackError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(error))


def _bound(node: str, *, preload: bool, host: str = "") -> str:
    argv = [node, *(["--require", str(LOOPBACK_PRELOAD)] if preload else []), "-e", SERVER, host]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return str(json.loads(result.stdout)["address"])


def test_a_port_only_server_listens_on_loopback_with_the_preload(node: str) -> None:
    assert _bound(node, preload=False) in {"::", "0.0.0.0"}  # every interface, as upstream starts it
    assert _bound(node, preload=True) == "127.0.0.1"


def test_a_server_given_a_host_keeps_it(node: str) -> None:
    assert _bound(node, preload=True, host="::1") == "::1"
