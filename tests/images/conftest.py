"""The images tier: every image wharf builds, started with `docker run` as the charts run it.

The session builds what is missing (`make images`; a warm cache builds nothing), on the Docker
engine that answers or on Debian's, installed and started here and stopped at the end. Every
container and network the tier makes carries one label and is removed at the end, even on failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from container_engine import engine_or_skip
from docker_box import LABEL, Containers, docker, remove_labelled

from wharf_infra.build import images
from wharf_infra.build.docker_engine import stop_engine


@pytest.fixture(scope="session")
def built() -> Iterator[dict[str, str]]:
    """name -> reference of every image, built if missing."""
    started = engine_or_skip()
    try:
        yield {image.name: image.reference for image in images.build()}
    finally:
        remove_labelled()
        if started:
            stop_engine()


@pytest.fixture
def containers(built: dict[str, str]) -> Iterator[Containers]:
    network = f"wharf-images-{uuid.uuid4().hex[:8]}"
    docker("network", "create", "--label", LABEL, network)
    box = Containers(network)
    try:
        yield box
    finally:
        if box.started:
            docker("rm", "-f", *box.started, check=False)
        docker("network", "rm", network, check=False)
