"""Where a chart comes from: a folder is taken only at the pinned version; else the pinned repository."""

from pathlib import Path

import pytest
import yaml

from wharf_infra.core.versions import versions
from wharf_infra.deploy.chart_source import ChartSourceError, chart_source, helm_cli_args


def _chart(folder: Path, name: str, version: str) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "Chart.yaml").write_text(yaml.safe_dump({"name": name, "version": version}))


def test_a_folder_at_the_pinned_version_is_used(tmp_path: Path) -> None:
    _chart(tmp_path, "traefik", versions().chart("traefik").version)
    source = chart_source("traefik", tmp_path)
    assert source.chart == str(tmp_path / "traefik") and source.repo is None
    assert helm_cli_args(source) == [str(tmp_path / "traefik")]


def test_a_folder_at_another_version_is_refused_naming_both(tmp_path: Path) -> None:
    _chart(tmp_path, "traefik", "1.0.0")
    with pytest.raises(ChartSourceError, match=r"is version 1\.0\.0, but infra/versions.toml pins 39\.0\.9"):
        chart_source("traefik", tmp_path)


def test_a_folder_without_the_chart_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChartSourceError, match=r"has no trino/Chart\.yaml"):
        chart_source("trino", tmp_path)


def test_without_a_folder_the_pinned_repository_and_version() -> None:
    pinned = versions().chart("trino")
    assert helm_cli_args(chart_source("trino", None)) == [
        "trino",
        "--repo",
        pinned.repo,
        "--version",
        pinned.version,
    ]
