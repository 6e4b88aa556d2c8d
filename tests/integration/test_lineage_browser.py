"""Lineage as a person sees it: Marquez's web UI on the native stack draws the graph around the
bioreactor overview mart, every table and job Marquez holds for it, and the screenshot is kept in
build/test-output/marquez/ (the test run's output folder)."""

import time
from typing import Any
from urllib.parse import quote

import dagster as dg
import requests
from conftest import SCREENSHOT_DIR
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from wharf_infra.native.settings import settings
from wharf_shared.lineage import emit_run_event

SCREENSHOTS = SCREENSHOT_DIR / "marquez"
MART = "marts.analytics.mart_bioreactor_overview"
RAW = "lake.raw.bioreactor_readings"
DEPTH = 20  # the whole graph the mart is part of
RENDER_TIMEOUT_S = 180
KINDS = ("DATASET", "JOB")


def _drawn(browser: WebDriver) -> list[dict[str, int]]:
    """Per picture that draws nodes (the graph and its minimap), its nodes of each kind: a node is
    labelled with its kind. Empty while the page redraws."""
    found = []
    try:
        for svg in browser.find_elements(By.TAG_NAME, "svg"):
            counts = {
                kind: len(svg.find_elements(By.XPATH, f".//*[name()='text' and normalize-space(.)='{kind}']"))
                for kind in KINDS
            }
            if any(counts.values()):
                found.append(counts)
    except StaleElementReferenceException:
        return []
    return found


def test_the_overview_mart_lineage_graph_is_drawn_in_marquez_web(
    browser: WebDriver,
    nightly_build: dg.ExecuteInProcessResult,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
) -> None:
    from analytics.definitions import defs

    run = instance.get_run_by_id(nightly_build.run_id)
    assert run is not None
    graph = defs.get_repository_def().asset_graph
    for state in ("START", "COMPLETE"):
        assert emit_run_event(instance, run, graph, resources["lineage"], state), state

    namespace = str(resources["lineage"].dataset_namespace)
    node = f"dataset:{namespace}:{MART}"
    query: dict[str, str | int] = {"nodeId": node, "depth": DEPTH}
    held = requests.get(f"{settings().url('marquez')}/api/v1/lineage", params=query, timeout=30).json()[
        "graph"
    ]
    kinds = {kind: sum(n["type"] == kind for n in held) for kind in KINDS}
    assert f"dataset:{namespace}:{RAW}" in {n["id"] for n in held}, "the graph reaches the raw readings"

    page = f"{settings().url('marquez-web')}/lineage/dataset/{quote(namespace, safe='')}/{quote(MART)}"
    browser.get(f"{page}?depth={DEPTH}")
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while not (drawn := _drawn(browser)) or any(counts != kinds for counts in drawn):
        assert time.monotonic() < deadline, f"drawn {drawn}, Marquez holds {kinds}"
        time.sleep(1)
    time.sleep(2)  # the layout settles
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "mart_bioreactor_overview.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000, f"{shot} is nearly empty"
