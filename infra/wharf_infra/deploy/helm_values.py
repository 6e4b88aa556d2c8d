"""Chart values: `helm/<chart>/values.yaml`, then `values-<stack>.yaml`, then what the program computes."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from wharf_infra.core.paths import HELM_DIR


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` wins; mappings merge key by key, everything else (lists too) is replaced.

    `base` is copied (it is parsed YAML); `override` values are taken as they are, since computed
    values may hold Pulumi Outputs, which cannot be copied.
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load(chart: str, file_name: str) -> dict[str, Any]:
    path = HELM_DIR / chart / file_name
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text()) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: chart values must be a mapping")
    return loaded


def chart_values(chart: str, stack: str, computed: dict[str, Any]) -> dict[str, Any]:
    """The values wharf installs `chart` with on `stack`."""
    if not (HELM_DIR / chart / "values.yaml").exists():
        raise FileNotFoundError(f"{HELM_DIR / chart / 'values.yaml'} is missing: every chart has base values")
    return deep_merge(deep_merge(_load(chart, "values.yaml"), _load(chart, f"values-{stack}.yaml")), computed)
