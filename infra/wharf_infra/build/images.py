"""`make images`: each code location's image, built once per content tag and loaded into kind.

Names and tags come from `core.image_tags`, the same the platform program deploys.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess

from wharf_infra.core.image_tags import content_tag, image_name
from wharf_infra.core.paths import REPO_ROOT
from wharf_infra.core.registry import load_registry
from wharf_infra.core.versions import versions


def _ok(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def build(registry: str, kind_cluster: str | None) -> list[str]:
    """Build the image of every location whose content tag is not built yet; load them into kind."""
    if shutil.which("docker") is None or not _ok("docker", "info"):
        raise SystemExit(
            "make images needs a running Docker engine: `docker info` failed. Start Docker "
            "(Docker Desktop, or the docker service) and retry."
        )
    pinned = versions()
    references = []
    for location in load_registry():
        reference = f"{image_name(registry, location)}:{content_tag(location)}"
        references.append(reference)
        if _ok("docker", "image", "inspect", reference):
            print(f"{reference}: unchanged, not rebuilt")
            continue
        print(f"{reference}: building")
        subprocess.run(
            [
                "docker",
                "build",
                "-f",
                str(REPO_ROOT / "images" / "Dockerfile"),
                "-t",
                reference,
                "--build-arg",
                f"LOCATION={location.package}",
                "--build-arg",
                f"EXTRA_PATHS={' '.join(location.extra_paths)}",
                "--build-arg",
                f"PYTHON_IMAGE={pinned.image('python_base')}",
                "--build-arg",
                f"UV_IMAGE={pinned.image('uv')}",
                str(REPO_ROOT),
            ],
            check=True,
        )
    if kind_cluster and shutil.which("kind") and _ok("kind", "get", "kubeconfig", "--name", kind_cluster):
        subprocess.run(["kind", "load", "docker-image", "--name", kind_cluster, *references], check=True)
    return references


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the code-location images (content-tagged).")
    parser.add_argument("--registry", default="wharf.local", help="image name prefix (the local stack's)")
    parser.add_argument(
        "--kind-cluster", default="wharf", help="kind cluster to load the images into, if it exists"
    )
    args = parser.parse_args(argv)
    build(args.registry, args.kind_cluster)


if __name__ == "__main__":
    main()
