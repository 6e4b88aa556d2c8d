"""`make kind-node`: wharf's kind node image, from package registries alone.

kind builds a node image from a Kubernetes server tarball (`kind build node-image --type file`):
kubeadm, kubelet and kubectl, and the control-plane images as `docker save` archives. Every other
image the node needs (etcd, CoreDNS, pause, kindnetd, local-path) it fetches from a registry with
`ctr content fetch`, unless an archive of the tarball lists it: kind takes an archive's tags from its
first `repositories` or `manifest.json` member. So the tarball wharf assembles carries those images
inside kube-proxy's archive, listed in a `repositories` member written first, and nothing is fetched.
Every image comes from a recipe under `images/` (versions.toml `part-of = "kind-node"`) on wharf's
base image (`kind-base`); the node image's tag is the hash of theirs (`image_tags.kind_node_tag`).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import get_args

from wharf_infra.build import images
from wharf_infra.build.docker_engine import DockerUnavailable, ensure_engine
from wharf_infra.build.toolchain import KIND, KUBERNETES, tool_module_dir
from wharf_infra.core.config import NodeImageSource
from wharf_infra.core.image_tags import KIND_BASE, KIND_NODE, kind_node_reference, recipes
from wharf_infra.core.paths import cache_dir
from wharf_infra.core.versions import versions

# The control-plane archives kind reads from the tarball; the node's other images ride in the last.
ARCHIVES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
CARRIER = "kube-proxy"
NODE_BINARIES = ("kubeadm", "kubelet", "kubectl")
KIND_IMAGE_SOURCES = ("pkg/build/nodeimage/const_cni.go", "pkg/build/nodeimage/const_storage.go")


class NodeImageError(RuntimeError):
    """The node image cannot be built; the message says what is missing."""


def _kind_source(relative: str) -> str:
    return (tool_module_dir(KIND, "sigs.k8s.io/kind") / relative).read_text()


def required_images() -> dict[str, str]:
    """Every image reference the node build needs -> the recipe that builds it: kubeadm's list for
    this Kubernetes version (its pause replaced by the sandbox image of kind's containerd config, as
    kind does), and the images of kind's default CNI and storage manifests."""
    listed = subprocess.run(
        [
            str(KUBERNETES.build() / "kubeadm"),
            *("config", "images", "list", "--kubernetes-version", f"v{versions().kubernetes}"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sandbox = re.search(
        r'sandbox_image = "([^"]+)"', _kind_source("images/base/files/etc/containerd/config.toml")
    )
    if sandbox is None:
        raise NodeImageError(
            "kind's containerd config names no sandbox_image: kind changed, update this build"
        )
    kind_images = [
        match
        for source in KIND_IMAGE_SOURCES
        for match in re.findall(r'"(docker\.io/kindest/[^"]+)"', _kind_source(source))
    ]
    refs = [ref for ref in listed if "/pause:" not in ref] + [sandbox.group(1), *kind_images]
    parts = {recipe.name for recipe in recipes().values() if recipe.part_of == KIND_NODE}
    wanted = {ref: ref.rpartition("/")[2].partition(":")[0] for ref in refs}
    # And what the cluster program deploys on the node, under the upstream names it uses.
    wanted |= {
        versions().image(image): recipe.name
        for recipe in recipes().values()
        if recipe.part_of == KIND_NODE
        for image in recipe.replaces
    }
    unknown = sorted(ref for ref, name in wanted.items() if name not in parts)
    if unknown:
        raise NodeImageError(
            f"the node needs {', '.join(unknown)}, which no recipe builds: add one to infra/versions.toml "
            f'with part-of = "{KIND_NODE}"'
        )
    return wanted


def write_archive(references: dict[str, str], path: Path) -> None:
    """`docker save` the built images (ref the node expects -> wharf's reference), renamed to the
    references the node expects and listed in a `repositories` member first (what kind reads)."""
    saved = subprocess.run(["docker", "save", *references.values()], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(saved)) as source:
        members = {member.name: member for member in source.getmembers()}
        manifest = json.loads(source.extractfile(members["manifest.json"]).read())  # type: ignore[union-attr]
        by_wharf_ref = {entry["RepoTags"][0]: entry for entry in manifest}
        repositories: dict[str, dict[str, str]] = {}
        for expected, built in references.items():
            entry = by_wharf_ref[built]
            entry["RepoTags"] = [expected]
            repository, _, tag = expected.rpartition(":")
            repositories.setdefault(repository, {})[tag] = entry["Layers"][-1].partition("/")[0]
        with tarfile.open(path, "w") as target:
            target.addfile(*_member_io("repositories", json.dumps(repositories).encode()))
            for name, member in members.items():
                if name not in ("repositories", "manifest.json"):
                    target.addfile(member, source.extractfile(member) if member.isfile() else None)
            target.addfile(*_member_io("manifest.json", json.dumps(manifest).encode()))


def _member_io(name: str, data: bytes) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, io.BytesIO(data)


def _server_tarball(work: Path, wanted: dict[str, str], registry: str) -> Path:
    """kind's `--type file` input: gzip, regular files only, under `kubernetes/`."""
    built = {ref: images.reference(name, registry) for ref, name in wanted.items()}
    by_archive: dict[str, dict[str, str]] = {archive: {} for archive in ARCHIVES}
    for ref, name in wanted.items():
        by_archive[name if name in ARCHIVES else CARRIER][ref] = built[ref]
    tarball = work / f"kubernetes-server-v{versions().kubernetes}.tar.gz"
    with (
        gzip.open(tarball, "wb", compresslevel=1) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as tar,
    ):
        tar.addfile(*_member_io("kubernetes/version", f"v{versions().kubernetes}\n".encode()))
        for binary in NODE_BINARIES:
            tar.add(KUBERNETES.build() / binary, f"kubernetes/server/bin/{binary}")
        for archive, references in by_archive.items():
            path = work / f"{archive}.tar"
            write_archive(references, path)
            tar.add(path, f"kubernetes/server/bin/{archive}.tar")
            path.unlink()
    return tarball


def _exists(reference: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", reference], capture_output=True).returncode == 0


def build(registry: str = images.DEFAULT_REGISTRY) -> str:
    """Build the node image unless its tag exists; return its reference."""
    ensure_engine()
    node = kind_node_reference(registry)
    if _exists(node):
        print(f"{node}: unchanged", file=sys.stderr, flush=True)
        return node
    started = time.monotonic()
    wanted = required_images()
    images.build(registry, {*wanted.values(), KIND_BASE})
    work = cache_dir() / KIND_NODE
    shutil.rmtree(work, ignore_errors=True)
    (work / "tmp").mkdir(parents=True)
    try:
        tarball = _server_tarball(work, wanted, registry)
        # kind extracts the tarball under TMPDIR and leaves it there: a folder of wharf's, removed after.
        result = subprocess.run(
            [
                str(KIND.build() / "kind"),
                *("build", "node-image", "--type", "file", str(tarball)),
                *("--base-image", images.reference(KIND_BASE, registry), "--image", node),
            ],
            env={**os.environ, "TMPDIR": str(work / "tmp")},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if result.returncode != 0:
        raise NodeImageError(f"kind build node-image failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    print(f"{node}: built in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    images.remove_superseded([node])
    return node


def _pulled(reference: str) -> bool:
    """Whether Docker has the upstream node image or can pull it (a registry answers)."""
    if _exists(reference):
        return True
    print(f"pulling {reference} (wharf builds its own if no registry answers)", file=sys.stderr, flush=True)
    return subprocess.run(["docker", "pull", reference], capture_output=True).returncode == 0


def ensure(source: NodeImageSource, registry: str) -> str:
    """The node image the cluster program will use for `source` (`nodeImage`), present in Docker."""
    ensure_engine()
    upstream = versions().kind_node_image
    if source == "upstream" or (source == "auto" and _pulled(upstream)):
        if not _pulled(upstream):
            raise NodeImageError(f"cannot pull {upstream}: set nodeImage: built (or auto) to build it here")
        return upstream
    return build(registry)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build wharf's kind node image from package registries.")
    parser.add_argument("--registry", default=images.DEFAULT_REGISTRY, help="image name prefix")
    parser.add_argument(
        "--source",
        choices=get_args(NodeImageSource),
        default="built",
        help="the cluster stack's nodeImage: built (default), upstream (pull it) or auto",
    )
    args = parser.parse_args(argv)
    try:
        print(ensure(args.source, args.registry))
    except (DockerUnavailable, NodeImageError) as error:
        raise SystemExit(str(error)) from None


if __name__ == "__main__":
    main()
