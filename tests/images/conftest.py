"""The images tier: every image wharf builds, started with `docker run` as the charts run it.

The session builds what is missing (`make images`; a warm cache builds nothing), on the Docker
engine that answers or on Debian's, installed and started here and stopped after the tier's last
test. Every container and network the tier makes carries one label and is removed then, even on
failure, and at the start: a run killed before its teardown leaves them, and container names are
global.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from container_engine import engine_or_skip
from data_services import DataServices, start_data_services
from docker_box import Containers, private_network, remove_labelled

from wharf_infra.build import images
from wharf_infra.build.docker_engine import stop_engine

# What the tier's session fixtures started, stopped once its last test has run: its containers
# would otherwise run on, taking the CPU from the tiers after it, until the whole session ends.
_tier = ExitStack()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    yield
    if nextitem is None or Path(nextitem.path).parent != Path(__file__).parent:
        _tier.close()


@pytest.fixture(scope="session")
def built() -> Iterator[dict[str, str]]:
    """name -> reference of every image, built if missing."""
    if engine_or_skip():
        _tier.callback(stop_engine)
    remove_labelled()
    _tier.callback(remove_labelled)
    yield {image.name: image.reference for image in images.build()}
    _tier.close()


@pytest.fixture
def containers(built: dict[str, str]) -> Iterator[Containers]:
    """A private network of the test's own."""
    with private_network() as box:
        yield box


@pytest.fixture(scope="session")
def data_services(built: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> DataServices:
    """The data services, started once; tests add databases and tables of their own names."""
    box = _tier.enter_context(private_network())
    return start_data_services(box, built, tmp_path_factory.mktemp("data-services"))
