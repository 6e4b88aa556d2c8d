"""Automation is live on a fresh deployment: the stack's own daemon acts with nobody asking."""

import time
from typing import Any

import dagster as dg
from conftest import GOOD

WAIT_S = 900  # the daemon works through ingests, dbt and automation two runs at a time on 2 cores


def test_channel_statistics_follow_a_landed_file_by_themselves(
    landed: dict[str, dg.DagsterRun], resources: dict[str, Any]
) -> None:
    """The statistics are eager: the daemon's automation sensor requests them after ingestion."""
    query = (
        "select count(distinct batch_id) from lake.curated.bioreactor_thermal_stats "
        f"where batch_id in ({', '.join(repr(b) for b in GOOD)})"
    )
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            if resources["trino"].query(query) == [(len(GOOD),)]:
                return
        except Exception as error:  # the table appears with its first materialization
            if "does not exist" not in str(error):
                raise
        assert time.monotonic() < deadline, f"no channel statistics for {GOOD} within {WAIT_S} s"
        time.sleep(10)


def test_a_stale_asset_fails_its_freshness_check(stack_instance: dg.DagsterInstance) -> None:
    """Weather observations were not updated on this stack: its freshness sensor says so."""
    check = dg.AssetCheckKey(dg.AssetKey(["lake", "raw", "weather_observations"]), "freshness_check")
    deadline = time.monotonic() + WAIT_S
    while not (
        executions := stack_instance.event_log_storage.get_asset_check_execution_history(check, limit=1)
    ):
        assert time.monotonic() < deadline, f"the freshness check did not run within {WAIT_S} s"
        time.sleep(10)
    evaluation = executions[0].evaluation
    assert evaluation is not None and evaluation.passed is False
