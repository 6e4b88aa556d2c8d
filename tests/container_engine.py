"""The Docker engine the tiers that start containers need (images, kind)."""

from __future__ import annotations

import os

import pytest

from wharf_infra.build.docker_engine import DockerUnavailable, ensure_engine


def engine_or_skip() -> bool:
    """A running engine (installed and started where wharf can); whether this call started it, so
    the caller stops it after. Without one the tier is skipped with the reason, failed under CI."""
    try:
        return ensure_engine()
    except DockerUnavailable as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Docker engine and none can be installed here: {error}")
