"""Automation is live on a fresh deployment: the stack's own daemon acts with nobody asking."""

import time
from typing import Any

import dagster as dg
import requests
from conftest import GOOD, eventually

from wharf_infra.native.settings import settings

WAIT_S = 900  # the daemon works through ingests, dbt and automation two runs at a time on 2 cores
BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
ROLLUP_CITY, ROLLUP_MONTH, ROLLUP_DAYS = "berlin", "2025-02", 3  # a month no other test writes


def test_channel_statistics_follow_a_landed_file_by_themselves(
    landed: dict[str, dg.DagsterRun], resources: dict[str, Any]
) -> None:
    """The statistics are eager: the daemon's automation sensor requests them after ingestion."""
    _query_until(
        resources,
        "select count(distinct batch_id) from lake.curated.bioreactor_thermal_stats "
        f"where batch_id in ({', '.join(repr(b) for b in GOOD)})",
        [(len(GOOD),)],
        f"no channel statistics for {GOOD}",
    )


def test_a_stale_asset_fails_its_freshness_check(stack_instance: dg.DagsterInstance) -> None:
    """Weather observations were not updated on this stack: its freshness sensor says so."""
    check = dg.AssetCheckKey(dg.AssetKey(["lake", "raw", "weather_observations"]), "freshness_check")
    executions = eventually(
        "the freshness check runs",
        lambda: stack_instance.event_log_storage.get_asset_check_execution_history(check, limit=1),
        WAIT_S,
        every_s=10,
    )
    evaluation = executions[0].evaluation
    assert evaluation is not None and evaluation.passed is False


def _query_until(resources: dict[str, Any], query: str, expected: list[Any], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            if resources["trino"].query(query) == expected:
                return
        except Exception as error:  # the table appears with its first materialization
            if "does not exist" not in str(error):
                raise
        assert time.monotonic() < deadline, f"{what} within {WAIT_S} s"
        time.sleep(10)


def test_a_backfill_launched_in_the_ui_rolls_its_past_month_up_by_itself(
    stack: dict[str, str], resources: dict[str, Any]
) -> None:
    """The webserver's backfill, run by the daemon; the monthly rollup follows with nobody asking."""
    days = [f"{ROLLUP_CITY}|{ROLLUP_MONTH}-{day:02d}" for day in range(1, ROLLUP_DAYS + 1)]
    params = {"partitionNames": days, "assetSelection": [{"path": ["lake", "raw", "weather_observations"]}]}
    body = {"query": BACKFILL, "variables": {"params": params}}
    answer = requests.post(f"{settings().url('dagster')}/graphql", json=body, timeout=60)
    launched = answer.json()["data"]["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    _query_until(
        resources,
        "select hours_observed from lake.curated.weather_monthly "
        f"where city = '{ROLLUP_CITY}' and month = date '{ROLLUP_MONTH}-01'",
        [(ROLLUP_DAYS * 24,)],  # every hour of the days the backfill observed
        f"no monthly rollup of {ROLLUP_CITY} {ROLLUP_MONTH} over {ROLLUP_DAYS} days",
    )
