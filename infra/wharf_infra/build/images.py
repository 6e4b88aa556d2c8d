"""`make images`: every image the platform runs, built by wharf from package registries.

One recipe per image under `images/<name>/` (versions.toml `[built.<name>]`), plus one for every
code location. Each is tagged by content (`core.image_tags`) and skipped when that tag is built.
Artefacts come from where the native stack obtains them (`native.artefacts`, the toolchain) and are
copied into a staged build context, so the images and the native stack run the same files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from wharf_infra.build.debian_rootfs import rootfs_image
from wharf_infra.build.docker_engine import DockerUnavailable, ensure_engine
from wharf_infra.build.sbom import write_sbom
from wharf_infra.build.toolchain import (
    CERT_MANAGER,
    CNI_PLUGINS,
    CNPG,
    CONTAINERD,
    COREDNS,
    CRICTL,
    ETCD,
    KIND,
    KINDNETD,
    KUBE_ROUTER,
    KUBERNETES,
    LOCAL_PATH_PROVISIONER,
    MC,
    OAUTH2_PROXY,
    RUNC,
    TRAEFIK,
    GoTool,
    tool_module_dir,
)
from wharf_infra.core.image_tags import (
    CODE_LOCATION_PARENTS,
    CODE_LOCATION_RECIPE,
    IGNORED_PARTS,
    KIND_BASE,
    PYTHON_RECIPES,
    WORKSPACE_FILES,
    Recipe,
    built_image_name,
    content_tag,
    recipe_tag,
    recipes,
)
from wharf_infra.core.paths import REPO_ROOT, cache_dir
from wharf_infra.core.registry import load_registry
from wharf_infra.native import artefacts
from wharf_infra.native.fetch import pypi_wheel
from wharf_infra.native.marquez_web import MarquezWeb
from wharf_infra.native.services import Marquez, Trino

DEFAULT_REGISTRY = "wharf.local"
NODE_PARTS = {recipe.name for recipe in recipes().values() if recipe.part_of}  # `make kind-node`'s


def _copy(source: Path, target: Path) -> None:
    """Hard-link where the cache and the context share a file system, else copy."""
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, target)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _uv(context: Path) -> None:
    wheel = pypi_wheel("uv", recipes()["uv"].inputs["uv"])
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".data/scripts/uv"))
        (context / "uv").write_bytes(archive.read(member))
    (context / "uv").chmod(0o755)


def _trust_bundle() -> Path:
    """The CA bundle this machine trusts (a site's TLS proxy included): the build stages that
    download from PyPI use it; no final image ships it."""
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    import certifi

    return Path(certifi.where())


def _workspace(context: Path) -> None:
    """The lock and the workspace's packages: what the recipes that install from the lock copy."""
    for path in WORKSPACE_FILES:
        source = REPO_ROOT / path
        if source.is_dir():
            shutil.copytree(source, context / path, ignore=shutil.ignore_patterns(*IGNORED_PARTS))
        else:
            shutil.copy2(source, context / path)
    _trust(context)


def _trust(context: Path) -> None:
    shutil.copy2(_trust_bundle(), context / "build-ca.crt")


def _minio(context: Path) -> None:
    """The server, and `mc` for the bucket Job the MinIO component runs on the same image."""
    _copy(artefacts.minio_binary(), context / "minio")
    _copy(MC.build() / "mc", context / "mc")


def _cert_manager(binary: str, context: Path) -> None:
    _copy(CERT_MANAGER.build() / binary, context / "binary")


def _superset(context: Path) -> None:
    """Superset's hashed lock (the native stack's environment installs the same wheels) and the
    dashboards importer its Job runs."""
    for path in PYTHON_RECIPES["superset"]:
        shutil.copy2(REPO_ROOT / path, context / Path(path).name)
    _trust(context)


def _tool_binary(tool: GoTool, binary: str, context: Path) -> None:
    _copy(tool.build() / binary, context / "binary")


def _kind_base(context: Path) -> None:
    """kind's base image `files/` (from kind's module, with the modes its Dockerfile gives them),
    and the node's runtime binaries from the toolchain."""
    files = context / "files"
    shutil.copytree(tool_module_dir(KIND, "sigs.k8s.io/kind") / "images" / "base" / "files", files)
    for path in files.rglob("*"):
        executable = path.is_dir() or path.parent.name == "bin"
        path.chmod(0o755 if executable else 0o644)
    (context / "bin").mkdir()
    for tool in (CONTAINERD, RUNC, CRICTL):
        for binary in tool.binaries:
            _copy(tool.build() / binary, context / "bin" / binary)
    _copy(CNI_PLUGINS.build(), context / "cni")


def _cnpg_operator(context: Path) -> None:
    """The manager under the name of the architecture it was built for (`manager_amd64`)."""
    architecture = subprocess.run(["go", "env", "GOARCH"], capture_output=True, text=True, check=True).stdout
    (context / "operator").mkdir()
    _copy(CNPG.build() / "manager", context / "operator" / f"manager_{architecture.strip()}")


def _pause(context: Path) -> None:
    """Kubernetes' own pause.c, from the module the toolchain builds Kubernetes from."""
    source = tool_module_dir(KUBERNETES, "k8s.io/kubernetes") / "build" / "pause" / "linux" / "pause.c"
    shutil.copyfile(source, context / "pause.c")


# What each recipe's build context holds, by recipe name; recipes not named here need none.
STAGE: Mapping[str, Callable[[Path], None]] = {
    "dagster": _workspace,
    "uv": _uv,
    "jre": lambda context: artefacts.java_runtime(context / "jre"),
    "postgres": lambda context: artefacts.unpack_postgres(context / "postgresql"),
    "minio": _minio,
    "nessie": lambda context: _copy(artefacts.nessie_jar(), context / "nessie-runner.jar"),
    "trino": lambda context: _copy(Trino().install(), context / "trino"),
    "marquez": lambda context: _copy(Marquez().build(), context / "marquez.jar"),
    "marquez-web": lambda context: _copy(MarquezWeb().build(), context / "app"),
    "superset": _superset,
    "traefik": lambda context: _copy(TRAEFIK.build() / "traefik", context / "traefik"),
    "cnpg-operator": _cnpg_operator,
    **{
        f"cert-manager-{binary}": partial(_cert_manager, binary)
        for binary in ("controller", "webhook", "cainjector", "startupapicheck")
    },
    "oauth2-proxy": lambda context: _copy(OAUTH2_PROXY.build() / "oauth2-proxy", context / "oauth2-proxy"),
    # The kind node's images.
    KIND_BASE: _kind_base,
    **{
        binary: partial(_tool_binary, KUBERNETES, binary)
        for binary in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
    },
    "kindnetd": partial(_tool_binary, KINDNETD, "kindnetd"),
    KUBE_ROUTER.name: partial(_tool_binary, KUBE_ROUTER, KUBE_ROUTER.name),
    "etcd": lambda context: _copy(ETCD.build() / "etcd", context / "etcd"),
    "coredns": lambda context: _copy(COREDNS.build() / "coredns", context / "coredns"),
    "pause": _pause,
    LOCAL_PATH_PROVISIONER.name: lambda context: _copy(
        LOCAL_PATH_PROVISIONER.build() / LOCAL_PATH_PROVISIONER.name, context / LOCAL_PATH_PROVISIONER.name
    ),
}


@dataclass(frozen=True)
class ImageBuild:
    name: str
    tag: str
    dockerfile: Path
    args: dict[str, str]
    stage: Callable[[Path], None]  # fills the build context
    registry: str = DEFAULT_REGISTRY

    @property
    def reference(self) -> str:
        return f"{built_image_name(self.registry, self.name)}:{self.tag}"


def reference(name: str, registry: str = DEFAULT_REGISTRY) -> str:
    """The reference of built image `name` (a recipe or a code location)."""
    locations = {location.name: location for location in load_registry()}
    tag = content_tag(locations[name]) if name in locations else recipe_tag(name)
    return f"{built_image_name(registry, name)}:{tag}"


def _recipe_build(recipe: Recipe, registry: str) -> ImageBuild:
    args = {key.upper().replace("-", "_"): value for key, value in recipe.inputs.items()}
    if recipe.name in PYTHON_RECIPES:
        args |= {f"{p.upper()}_IMAGE": reference(p, registry) for p in CODE_LOCATION_PARENTS}
    elif recipe.parent:
        args["BASE_IMAGE"] = reference(recipe.parent, registry)
    stage = STAGE.get(recipe.name, lambda context: None)
    return ImageBuild(
        recipe.name, recipe_tag(recipe.name), recipe.folder / "Dockerfile", args, stage, registry
    )


def plan(registry: str = DEFAULT_REGISTRY) -> list[ImageBuild]:
    """Every image, parents first: the recipes, then the code locations (the kind node's parts too:
    `build` leaves them out unless asked)."""
    builds = [_recipe_build(recipe, registry) for recipe in recipes().values()]
    parents = {f"{p.upper()}_IMAGE": reference(p, registry) for p in CODE_LOCATION_PARENTS}
    for location in load_registry():
        args = parents | {"LOCATION": location.package, "EXTRA_PATHS": " ".join(location.extra_paths)}
        builds.append(
            ImageBuild(
                location.name,
                content_tag(location),
                CODE_LOCATION_RECIPE / "Dockerfile",
                args,
                _workspace,
                registry,
            )
        )
    return builds


def _exists(reference: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", reference], capture_output=True).returncode == 0


def _docker_build(image: ImageBuild) -> None:
    args = dict(image.args)
    if image.name == "debian":
        args["ROOTFS"] = rootfs_image(args["SUITE"])
    context = cache_dir() / "images" / "context" / image.name
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    for file in image.dockerfile.parent.iterdir():  # the recipe's own files (scripts, sources)
        if file.name != "Dockerfile":
            shutil.copy2(file, context / file.name)
    image.stage(context)
    env = dict(os.environ)
    if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode != 0:
        env["DOCKER_BUILDKIT"] = "0"  # an engine without buildx (Debian's docker.io) builds classically
    argv = ["docker", "build", "--quiet", "--force-rm", "-f", str(image.dockerfile), "-t", image.reference]
    for key, value in sorted(args.items()):
        argv += ["--build-arg", f"{key}={value}"]
    result = subprocess.run([*argv, str(context)], capture_output=True, text=True, env=env, check=False)
    shutil.rmtree(context, ignore_errors=True)
    if result.returncode != 0:
        raise DockerUnavailable(
            f"building {image.reference} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def _size_mb(reference: str) -> float:
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", reference], capture_output=True, text=True
    )
    return int(out.stdout.strip() or 0) / 1e6


def build(registry: str = DEFAULT_REGISTRY, only: set[str] | None = None) -> list[ImageBuild]:
    """Build every image whose content tag is not built yet (with `only`: those and their parents);
    print a summary with sizes; write each new image's SBOM."""
    ensure_engine()
    images = plan(registry)
    if only:
        unknown = only - {image.name for image in images}
        if unknown:
            raise SystemExit(
                f"no image named {', '.join(sorted(unknown))}: choose from {[i.name for i in images]}"
            )
        images = [image for image in images if image.name in _with_parents(only)]
    else:
        images = [image for image in images if image.name not in NODE_PARTS]
    rows = []
    for image in images:
        started = time.monotonic()
        state = "unchanged"
        if not _exists(image.reference):
            print(f"{image.reference}: building", file=sys.stderr, flush=True)
            _docker_build(image)
            write_sbom(image.name, image.reference)
            state = "built"
        rows.append((image.reference, state, time.monotonic() - started, _size_mb(image.reference)))
    for ref, state, seconds, size in rows:
        print(f"  {ref:<72} {state:<9} {seconds:6.0f} s {size:8.0f} MB")
    remove_superseded([image.reference for image in images])
    return images


def remove_superseded(references: list[str]) -> None:
    """Earlier tags of the images just built (a changed input re-tags an image: without this,
    every change would keep its predecessor's gigabyte), then the layers nothing uses any more.
    A tag a container still runs (a kind node) stays."""
    current = set(references)
    listed = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    names = {reference.rpartition(":")[0] for reference in references}
    stale = [ref for ref in listed if ref.rpartition(":")[0] in names and ref not in current]
    if stale:
        subprocess.run(["docker", "image", "rm", *stale], capture_output=True, check=False)
        print(f"  removed {len(stale)} superseded image tags", file=sys.stderr, flush=True)
    subprocess.run(["docker", "image", "prune", "--force"], capture_output=True, check=False)


def _with_parents(names: set[str]) -> set[str]:
    found = set(names)
    locations = {location.name for location in load_registry()}
    for name in names:
        chain = list(CODE_LOCATION_PARENTS) if name in locations or name in PYTHON_RECIPES else []
        chain += [name] if name in recipes() else []
        while chain:
            current = chain.pop()
            found.add(current)
            parent = recipes()[current].parent
            chain += [parent] if parent else []
    return found


def load_into_kind(images: list[ImageBuild], cluster: str) -> None:
    if (
        shutil.which("kind")
        and subprocess.run(["kind", "get", "kubeconfig", "--name", cluster], capture_output=True).returncode
        == 0
    ):
        subprocess.run(
            ["kind", "load", "docker-image", "--name", cluster, *(i.reference for i in images)], check=True
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build every image the platform runs (content-tagged).")
    parser.add_argument("names", nargs="*", help="only these images (and their parents)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="image name prefix (the local stack's)")
    parser.add_argument(
        "--push", metavar="REGISTRY", help="name the images under REGISTRY and push them there"
    )
    parser.add_argument(
        "--kind-cluster", default="wharf", help="kind cluster to load the images into, if it exists"
    )
    args = parser.parse_args(argv)
    try:
        images = build(args.push or args.registry, set(args.names) or None)
    except DockerUnavailable as error:
        raise SystemExit(str(error)) from None
    if args.push:
        for image in images:
            subprocess.run(["docker", "push", image.reference], check=True)
    else:
        load_into_kind(images, args.kind_cluster)


if __name__ == "__main__":
    main()
