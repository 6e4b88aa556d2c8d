"""Tools wharf builds for itself from the Go module proxy, pinned in versions.toml `[toolchain]`.

Each tool is a wrapper module under `infra/toolchain/<name>/` (its `go.mod` and `go.sum` pin every
dependency), built once into `$WHARF_CACHE/toolchain/<name>-<version>/`. Sources a wrapper needs
beyond its dependencies (Pulumi's Python language host, the Kubernetes provider's generated schema)
are copied into a build folder in the cache, never into the repository; so are cert-manager's
commands, modules of their own that the proxy does not serve. All wrappers share one module cache and
one build cache, so the second tool reuses what the first compiled.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from wharf_infra.core import debian
from wharf_infra.core.paths import REPO_ROOT, cache_dir, upstream_dir
from wharf_infra.core.versions import versions

WRAPPERS = REPO_ROOT / "infra" / "toolchain"
PULUMI_VERSION_FLAG = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
RECIPE_STAMP = ".recipe"  # beside the binaries: the flags they were built with
KUBERNETES_PROVIDER_VERSION_FLAG = "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version"


class ToolchainError(RuntimeError):
    """A tool could not be built; the message carries Go's own error."""


def go_env() -> dict[str, str]:
    """One module cache (and Go's one build cache) for every wrapper; static binaries."""
    root = cache_dir()
    return {
        **os.environ,
        "GOPATH": str(root / "go"),
        "GOFLAGS": "-mod=readonly -trimpath -buildvcs=false",
        "CGO_ENABLED": "0",
    }


def _go(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(
        ["go", *args], cwd=cwd, env={**go_env(), **(env or {})}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ToolchainError(f"`go {' '.join(args)}` in {cwd} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def module_dir(build_dir: Path, module: str) -> Path:
    """Where the module cache holds `module` at the version the wrapper requires."""
    return Path(_go(["list", "-m", "-f", "{{.Dir}}", module], build_dir).strip())


def _executable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def module_version(tag: str) -> str:
    """The Go module version of an image tag: Go's versions start with `v`, some images' tags do not."""
    return tag if tag.startswith("v") else f"v{tag}"


def _stamp(variable: str, prefix: str = "") -> Callable[[str], str]:
    """`-X variable=version`, as the tool's release build stamps it (`prefix` before the version)."""
    return lambda version: f"-s -w -X {variable}={prefix}{version}"


@dataclass(frozen=True)
class GoTool:
    """A wrapper module and what it builds: binary name -> Go package."""

    name: str
    binaries: Mapping[str, str]
    ldflags: Callable[[str], str] = lambda version: ""
    prepare: Callable[[Path, str], None] = lambda build_dir, version: None
    # What the wrapper's local `replace` lines point at, put in the build folder before the download.
    sources: Callable[[Path, str], None] = lambda build_dir, version: None
    scripts: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, path in it)
    image: str | None = None  # the image of versions.toml whose version this builds: one pin for both
    tags: str = ""  # Go build tags, as upstream's release build sets them
    # C parts (runc's nsenter, libseccomp): built with cgo and linked statically, from these Debian
    # packages' headers and archives, so the binary runs in any image.
    cgo_packages: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        if self.image:
            return module_version(versions().image_version(self.image))
        return versions().toolchain_version(self.name)

    @property
    def out_dir(self) -> Path:
        return cache_dir() / "toolchain" / f"{self.name}-{self.version}"

    def outputs(self) -> list[Path]:
        return [self.out_dir / name for name in (*self.binaries, *self.scripts)]

    @property
    def recipe(self) -> str:
        """How the binaries are built: a change (flags, tags, cgo) builds them again."""
        return f"ldflags={self.ldflags(self.version)}\ntags={self.tags}\ncgo={','.join(self.cgo_packages)}\n"

    @property
    def built(self) -> bool:
        stamp = self.out_dir / RECIPE_STAMP
        built = all(path.exists() for path in self.outputs())
        return built and stamp.is_file() and stamp.read_text() == self.recipe

    @property
    def build_dir(self) -> Path:
        return cache_dir() / "toolchain" / "src" / f"{self.name}-{self.version}"

    def source_dir(self) -> Path:
        """A fresh build folder: the wrapper module, its local sources, every module downloaded."""
        build_dir = self.build_dir
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        for name in ("go.mod", "go.sum"):
            shutil.copyfile(WRAPPERS / self.name / name, build_dir / name)
        self.sources(build_dir, self.version)
        _go(["mod", "download"], build_dir)
        return build_dir

    def build(self) -> Path:
        """Build what is missing (minutes, once per version); return the folder of the binaries."""
        if self.built:
            return self.out_dir
        if shutil.which("go") is None:
            raise ToolchainError(
                f"Go is needed to build {self.name}: install it (Debian: golang-go) and retry"
            )
        if self.cgo_packages:
            _c_toolchain(self.cgo_packages)
        started = time.monotonic()
        print(
            f"  building {self.name} {self.version} from the Go module proxy (once)",
            file=sys.stderr,
            flush=True,
        )
        build_dir = self.source_dir()
        self.prepare(build_dir, self.version)
        staging = self.out_dir.with_name(self.out_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        ldflags = self.ldflags(self.version) + (
            " -linkmode external -extldflags -static" if self.cgo_packages else ""
        )
        cgo = {"CGO_ENABLED": "1"} if self.cgo_packages else {}
        for binary, package in self.binaries.items():
            _go(
                [
                    "build",
                    "-tags",
                    self.tags,
                    "-ldflags",
                    ldflags.strip(),
                    "-o",
                    str(staging / binary),
                    package,
                ],
                build_dir,
                cgo,
            )
        for script, (module, path) in self.scripts.items():
            shutil.copyfile(module_dir(build_dir, module) / path, staging / script)
            _executable(staging / script)
        (staging / RECIPE_STAMP).write_text(self.recipe)
        shutil.rmtree(self.out_dir, ignore_errors=True)
        staging.rename(self.out_dir)
        print(f"  built {self.name} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        return self.out_dir


def _c_toolchain(packages: tuple[str, ...]) -> None:
    """gcc and the static archives a cgo build links, installed from Debian where missing."""
    status = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}\\n", "gcc", "pkg-config", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    if status.returncode != 0 or status.stdout.count("install ok installed") < len(packages) + 2:
        debian.install("gcc", "pkg-config", *packages)


def _language_host(build_dir: Path, version: str) -> None:
    """Pulumi's Python language host compiles in the CLI's wrapper from its upstream main.go."""
    upstream = upstream_dir()
    source = (upstream or Path("$WHARF_UPSTREAM_DIR")) / "pulumi-language-python" / "main.go"
    if not source.exists():
        raise ToolchainError(f"{source} is missing: point WHARF_UPSTREAM_DIR at the upstream copies")
    (build_dir / "language-python").mkdir()
    shutil.copyfile(source, build_dir / "language-python" / "main.go")


PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4"


def _provider_sources(build_dir: Path, version: str) -> None:
    """The provider's main package go:embeds a schema generated from the module's schema.json."""
    command = module_dir(build_dir, PROVIDER_MODULE) / "cmd" / "pulumi-resource-kubernetes"
    for name in ("main.go", "generate.go", "schema.json", "terraform-mapping.json"):
        shutil.copyfile(command / name, build_dir / name)
        (build_dir / name).chmod(0o644)
    _go(["run", "generate.go"], build_dir, {"VERSION": version.removeprefix("v")})


SDK = "github.com/pulumi/pulumi/sdk/v3"


def _kubernetes_version(version: str) -> str:
    """What Kubernetes' own build stamps in (hack/lib/version.sh): servers report their version,
    and charts' `kubeVersion` constraints are checked against it."""
    major, minor = version.removeprefix("v").split(".")[:2]
    fields = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(
        f"-X {package}.{key}={value}"
        for package in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version")
        for key, value in fields.items()
    )


KUBERNETES = GoTool(
    "kubernetes",
    {
        name: f"k8s.io/kubernetes/cmd/{name}"
        for name in (
            *("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"),  # kwok's
            *("kubelet", "kubeadm", "kube-proxy"),  # what the kind node image adds
        )
    },
    ldflags=_kubernetes_version,
)
ETCD = GoTool("etcd", {"etcd": "go.etcd.io/etcd/server/v3"})
KWOK = GoTool("kwok", {"kwok": "sigs.k8s.io/kwok/cmd/kwok"})
HELM = GoTool(
    "helm",
    {"helm": "helm.sh/helm/v3/cmd/helm"},
    ldflags=_stamp("helm.sh/helm/v3/internal/version.version"),  # else it says `v3.22`
)
PULUMI = GoTool(
    "pulumi",
    {
        "pulumi": "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        "pulumi-language-python": "./language-python",
    },
    ldflags=lambda version: f"-X {PULUMI_VERSION_FLAG}={version}",
    prepare=_language_host,
    scripts={
        "pulumi-language-python-exec": (SDK, "python/cmd/pulumi-language-python-exec"),
        "pulumi-resource-pulumi-python": (SDK, "python/dist/pulumi-resource-pulumi-python"),
    },
)
PULUMI_KUBERNETES = GoTool(
    "pulumi-kubernetes",
    {"pulumi-resource-kubernetes": "."},
    ldflags=lambda version: f"-X {KUBERNETES_PROVIDER_VERSION_FLAG}={version.removeprefix('v')}",
    prepare=_provider_sources,
)
KWOK_TOOLS = (KUBERNETES, ETCD, KWOK, PULUMI, PULUMI_KUBERNETES, HELM)  # what `make cluster TARGET=kwok` runs
# The gateway's data plane and OIDC login, as the cluster runs them: the gateway tier runs them natively.
TRAEFIK = GoTool(
    "traefik",
    {"traefik": "github.com/traefik/traefik/v3/cmd/traefik"},
    ldflags=lambda version: f"-s -w -X github.com/traefik/traefik/v3/pkg/version.Version={version}",
    image="traefik",
)
OAUTH2_PROXY = GoTool(
    "oauth2-proxy",
    {"oauth2-proxy": "github.com/oauth2-proxy/oauth2-proxy/v7"},
    ldflags=lambda version: f"-s -w -X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION={version}",
    image="oauth2_proxy",
)


def _cnpg_version(version: str) -> str:
    """As the operator's release build stamps it: `1.30.0`, like its image tags, without the `v`."""
    package = "github.com/cloudnative-pg/cloudnative-pg/pkg/versions"
    return f"-s -w -X {package}.buildVersion={version.removeprefix('v')}"


CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager"
CERT_MANAGER_COMMANDS = ("controller", "webhook", "cainjector", "startupapicheck")


def _copy_writable(source: Path, target: Path) -> None:
    """`source`'s tree without its (read-only) modes, so the build folder can be edited and removed."""
    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            (target / path.relative_to(source)).mkdir()
        else:
            shutil.copyfile(path, target / path.relative_to(source))


def _cert_manager_commands(build_dir: Path, version: str) -> None:
    """Each cert-manager command is a module of its own (`<name>-binary`) that the proxy does not
    serve, with a `replace` of the root module by its checkout. The wrapper replaces each command
    module by its folder here, copied from the upstream copies, with the root module required from
    the proxy instead; the module paths stay, which is what lets them import the root's `internal/`."""
    upstream = upstream_dir()
    source = (upstream or Path("$WHARF_UPSTREAM_DIR")) / "cert-manager" / version / "cmd"
    if not source.is_dir():
        raise ToolchainError(
            f"{source} is missing: point WHARF_UPSTREAM_DIR at the upstream copies (cert-manager's commands)"
        )
    for command in CERT_MANAGER_COMMANDS:
        _copy_writable(source / command, build_dir / command)
        _go(
            [
                "mod",
                "edit",
                f"-dropreplace={CERT_MANAGER_MODULE}",
                f"-require={CERT_MANAGER_MODULE}@{version}",
            ],
            build_dir / command,
        )


def _cert_manager_version(version: str) -> str:
    """As cert-manager's release build stamps it; its binaries log it when they start."""
    flags = {"AppVersion": version, "AppGitState": "clean"}
    return " ".join(
        ["-s -w", *(f"-X {CERT_MANAGER_MODULE}/pkg/util.{key}={value}" for key, value in flags.items())]
    )


def _mc_version(version: str) -> str:
    """What mc's release build stamps (buildscripts/gen-ldflags.go), from the pseudo-version's commit
    time and hash; a DEVELOPMENT release tag, as upstream's own builds outside a release have (mc
    asks dl.min.io for updates on RELEASE tags only)."""
    stamp, commit = version.split("-")[-2:]
    built = datetime.strptime(stamp, "%Y%m%d%H%M%S")
    flags = {
        "Version": f"{built:%Y-%m-%dT%H:%M:%S}Z",
        "ReleaseTag": f"DEVELOPMENT.{built:%Y-%m-%dT%H-%M-%S}Z",
        "CommitID": commit,
        "CopyrightYear": str(built.year),
    }
    return " ".join(["-s -w", *(f"-X github.com/minio/mc/cmd.{key}={value}" for key, value in flags.items())])


# The operators' and MinIO's binaries, at the versions of the images they replace: the images wharf
# builds carry them (the MinIO setup Job runs `mc` from the MinIO image).
CNPG = GoTool(
    "cnpg",
    {"manager": "github.com/cloudnative-pg/cloudnative-pg/cmd/manager"},
    ldflags=_cnpg_version,
    image="cnpg_operator",
)
CERT_MANAGER = GoTool(
    "cert-manager",
    {command: f"{CERT_MANAGER_MODULE}/{command}-binary" for command in CERT_MANAGER_COMMANDS},
    ldflags=_cert_manager_version,
    sources=_cert_manager_commands,
    image="cert_manager_controller",
)
MC = GoTool("mc", {"mc": "github.com/minio/mc"}, ldflags=_mc_version)
IMAGE_TOOLS = (CNPG, CERT_MANAGER, MC)


def _kindnetd_source(build_dir: Path, version: str) -> None:
    """kindnetd is a module of its own inside kind's repository, which the proxy does not serve:
    the wrapper replaces it by its folder of the upstream copies, at the kind commit pinned."""
    source = (upstream_dir() or Path("$WHARF_UPSTREAM_DIR")) / "kind" / version / "images" / "kindnetd"
    if not source.is_dir():
        raise ToolchainError(
            f"{source} is missing: point WHARF_UPSTREAM_DIR at the upstream copies (kindnetd)"
        )
    _copy_writable(source, build_dir / "kindnetd")


# The kind target: kind itself, and what its node image holds (kind v0.33.0's base image pins the
# runtime's versions; kubeadm v1.34 pins etcd's and CoreDNS's).
KIND = GoTool("kind", {"kind": "sigs.k8s.io/kind"})
CONTAINERD_PACKAGE = "github.com/containerd/containerd/v2"
CONTAINERD = GoTool(
    "containerd",
    {name: f"{CONTAINERD_PACKAGE}/cmd/{name}" for name in ("containerd", "ctr", "containerd-shim-runc-v2")},
    ldflags=_stamp(f"{CONTAINERD_PACKAGE}/version.Version"),
    tags="no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs",
)
RUNC = GoTool(
    "runc",
    {"runc": "github.com/opencontainers/runc"},
    tags="seccomp urfave_cli_no_docs",
    cgo_packages=("libseccomp-dev",),
)
CRICTL = GoTool(
    "cri-tools",
    {"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"},
    ldflags=_stamp("sigs.k8s.io/cri-tools/pkg/version.Version"),
)
CNI_PLUGINS = GoTool(
    "cni-plugins",
    {
        name: f"github.com/containernetworking/plugins/plugins/{kind}/{name}"
        for kind, name in (("ipam", "host-local"), ("main", "loopback"), ("main", "ptp"), ("meta", "portmap"))
    },
    ldflags=_stamp("github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion"),
)
COREDNS = GoTool("coredns", {"coredns": "github.com/coredns/coredns"}, ldflags=lambda version: "-s -w")
KINDNETD = GoTool(
    "kindnetd",
    {"kindnetd": "sigs.k8s.io/kind/images/kindnetd/cmd/kindnetd"},
    ldflags=lambda version: "-s -w",
    sources=_kindnetd_source,
)
LOCAL_PATH_PROVISIONER = GoTool(
    "local-path-provisioner",
    {"local-path-provisioner": "github.com/rancher/local-path-provisioner"},
    ldflags=_stamp("main.VERSION"),
)
KUBE_ROUTER = GoTool(
    "kube-router",
    {"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
    ldflags=_stamp("github.com/cloudnativelabs/kube-router/v2/pkg/version.Version"),
    image="kube_router",
)
NODE_TOOLS = (
    KUBERNETES,
    ETCD,
    CONTAINERD,
    RUNC,
    CRICTL,
    CNI_PLUGINS,
    COREDNS,
    KINDNETD,
    LOCAL_PATH_PROVISIONER,
    KUBE_ROUTER,
)
# What `make cluster` (kind) runs on the host, beside Docker: kind, kubectl, Pulumi and its provider, helm.
KIND_TOOLS = (KIND, KUBERNETES, PULUMI, PULUMI_KUBERNETES, HELM)
_EVERY_TOOL = (*KWOK_TOOLS, TRAEFIK, OAUTH2_PROXY, *IMAGE_TOOLS, *KIND_TOOLS, *NODE_TOOLS)
TOOLS = tuple({tool.name: tool for tool in _EVERY_TOOL}.values())  # what `make toolchain` builds


@cache
def helm() -> Path:
    """The pinned helm (`make render` runs `helm template`)."""
    return HELM.build() / "helm"


def tool_module_dir(tool: GoTool, module: str) -> Path:
    """Where the module cache holds `module` at the version `tool`'s wrapper pins (files a build
    ships besides its binaries: kwok's stages, kind's base image files, Kubernetes' pause.c)."""
    build_dir = tool.build_dir if (tool.build_dir / "go.mod").exists() else tool.source_dir()
    return module_dir(build_dir, module)


def kwok_stages(kind: str) -> Path:
    """kwok's shipped stage files (`node` or `pod`), from the module the wrapper pins."""
    return tool_module_dir(KWOK, "sigs.k8s.io/kwok") / "kustomize" / "stage" / kind


def path_with(*tools: GoTool) -> str:
    """PATH with the built tools first (Pulumi finds its language host and providers there)."""
    return os.pathsep.join([*(str(tool.build()) for tool in tools), os.environ.get("PATH", "")])


def main(argv: list[str] | None = None) -> None:
    """`python -m wharf_infra.build.toolchain [name ...]`: build the named tools (all by default)."""
    wanted = set(argv if argv is not None else sys.argv[1:])
    unknown = wanted - {tool.name for tool in TOOLS}
    if unknown:
        raise SystemExit(f"unknown tools {sorted(unknown)}; choose from {[tool.name for tool in TOOLS]}")
    for tool in TOOLS:
        if not wanted or tool.name in wanted:
            print(f"{tool.name} {tool.version}: {tool.build()}", flush=True)


if __name__ == "__main__":
    main()
