"""Lineage as a person sees it: Marquez's web UI on the native stack draws the graph of the
bioreactor overview mart, every table and job Marquez holds upstream and downstream of it, and the
screenshot is kept in build/test-output/marquez/ (the test run's output folder)."""

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
RELOAD_S = 30
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


def _on_the_path(node: str) -> list[dict[str, Any]]:
    """What Marquez holds of `node`'s lineage that its UI draws (the graph not in full): the node,
    everything upstream of it and everything downstream, not its inputs' other readers."""
    query: dict[str, str | int] = {"nodeId": node, "depth": DEPTH}
    held = requests.get(f"{settings().url('marquez')}/api/v1/lineage", params=query, timeout=30).json()
    nodes = {n["id"]: n for n in held["graph"]}

    def reached(edges: str, end: str) -> set[str]:
        seen, todo = set(), [node]
        while todo:
            for edge in nodes[todo.pop()][edges]:
                if (step := edge[end]) in nodes and step not in seen:
                    seen.add(step)
                    todo.append(step)
        return seen

    return [nodes[n] for n in {node} | reached("inEdges", "origin") | reached("outEdges", "destination")]


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
    assert f"dataset:{namespace}:{RAW}" in {n["id"] for n in _on_the_path(node)}, "the path reaches raw"

    page = f"{settings().url('marquez-web')}/lineage/dataset/{quote(namespace, safe='')}/{quote(MART)}"
    browser.get(f"{page}?depth={DEPTH}")
    loaded = time.monotonic()
    deadline = loaded + RENDER_TIMEOUT_S
    while True:
        held = _on_the_path(node)  # the stack's daemon may add to the graph meanwhile
        kinds = {kind: sum(n["type"] == kind for n in held) for kind in KINDS}
        if (drawn := _drawn(browser)) and all(counts == kinds for counts in drawn):
            break
        assert time.monotonic() < deadline, f"drawn {drawn}, Marquez holds {kinds}"
        if time.monotonic() - loaded > RELOAD_S:  # the graph changed after the page read it
            browser.refresh()
            loaded = time.monotonic()
        time.sleep(1)
    time.sleep(2)  # the layout settles
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "mart_bioreactor_overview.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000, f"{shot} is nearly empty"
