"""The images tier: every image wharf builds, started with `docker run` as the charts run it.

The session builds what is missing (`make images`; a warm cache builds nothing), on the Docker
engine that answers or on Debian's, installed and started here and stopped at the end. Every
container and network the tier makes carries one label and is removed at the end, even on failure,
and at the start: a run killed before its teardown leaves them, and container names are global.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from container_engine import engine_or_skip
from data_services import DataServices, start_data_services
from docker_box import Containers, private_network, remove_labelled

from wharf_infra.build import images
from wharf_infra.build.docker_engine import stop_engine


@pytest.fixture(scope="session")
def built() -> Iterator[dict[str, str]]:
    """name -> reference of every image, built if missing."""
    started = engine_or_skip()
    remove_labelled()
    try:
        yield {image.name: image.reference for image in images.build()}
    finally:
        remove_labelled()
        if started:
            stop_engine()


@pytest.fixture
def containers(built: dict[str, str]) -> Iterator[Containers]:
    """A private network of the test's own."""
    with private_network() as box:
        yield box


@pytest.fixture(scope="session")
def data_services(built: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataServices]:
    """The data services, started once; tests add databases and tables of their own names."""
    with private_network() as box:
        yield start_data_services(box, built, tmp_path_factory.mktemp("data-services"))
