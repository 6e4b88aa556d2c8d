"""Integration-tier fixtures: the native stack, up once per session (or reused), and a clean lake.

A stack this session started is stopped at its end; one that was already running is left running.
The tier resets the stack's lake (Iceberg tables, marts, landing bucket), its Dagster instance and
Marquez's lineage before it starts.
"""

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import dagster as dg
import psutil
import pyarrow as pa
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from bioreactor.generate import bad_file, batch_table, to_parquet
from bioreactor.sensors import ingest_job, landing_keys
from weather.cities import CITIES
from weather.source import WeatherSource
from wharf_infra.contract.facts import BUCKETS
from wharf_infra.core import debian
from wharf_infra.core.paths import BUILD_DIR
from wharf_infra.native import processes
from wharf_infra.native import stack as native_stack
from wharf_infra.native.dagster import instance_config, platform_env
from wharf_infra.native.services import Postgres, s3_client

FIRST, LAST = date(2025, 3, 1), date(2025, 3, 30)  # the weather backfill: 30 days
LAKE_SCHEMAS = ("raw", "curated", "staging", "intermediate", "data_quality")
TEST_DATABASE = "dagster_test"
SCREENSHOT_DIR = BUILD_DIR / "test-output"  # the test run's output folder: what a person would see
CHROMIUM = ("chromium", "chromedriver")  # Debian's packages chromium and chromium-driver


def _reset_lake(trino: object) -> None:
    query = trino.query  # type: ignore[attr-defined]
    for schema in LAKE_SCHEMAS:
        for name, kind in query(
            "select table_name, table_type from lake.information_schema.tables "
            f"where table_schema = '{schema}'"
        ):
            query(f"drop {'view' if kind == 'VIEW' else 'table'} lake.{schema}.{name}")
    for (name,) in query(
        "select table_name from marts.information_schema.tables where table_schema = 'analytics'"
    ):
        query(f"drop table marts.analytics.{name}")
    client = s3_client()
    for bucket in BUCKETS:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])


def _reset_lineage() -> None:
    """Marquez's store emptied (its schema kept): the lineage tests read the graph this tier makes."""
    connection = Postgres().connect("marquez")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "select tablename from pg_tables where schemaname = 'public' "
                "and tablename <> 'flyway_schema_history'"
            )
            tables = ", ".join(f'"{name}"' for (name,) in cursor.fetchall())
            cursor.execute(f"truncate {tables} cascade")
    finally:
        connection.close()


def _reset_instance(dagster_home: str) -> None:
    """A reused stack starts clean: no runs queued by an earlier session, no sensor cursor or
    dynamic partition left over (the daemon recreates its sensors' state as it ticks)."""
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(dagster_home)) as shared:
        for record in shared.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])):
            shared.report_run_canceled(record.dagster_run)
        shared.wipe()
        shared.wipe_all_schedules()


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    started_here = native_stack.ensure_up()
    env = platform_env()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    from wharf_shared.profiles import shared_resources

    _reset_lake(shared_resources("services")["trino"])
    _reset_instance(env["DAGSTER_HOME"])
    _reset_lineage()
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if started_here:
        native_stack.down()
        left = processes.leftovers()
        assert not left, f"the stack's stop left processes running: {left}"


@pytest.fixture(scope="session")
def resources(stack: dict[str, str]) -> dict[str, object]:
    from wharf_shared.profiles import shared_resources

    return shared_resources("services")


@pytest.fixture(scope="session")
def instance(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance on the stack's Postgres, in a database of its own: the stack's daemon
    does not act on what the in-process tests materialize."""
    Postgres().ensure_database(TEST_DATABASE, "dagster")
    config = instance_config()
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        config[storage]["config"]["postgres_db"]["db_name"] = TEST_DATABASE
    config.pop("run_coordinator")
    home = tmp_path_factory.mktemp("dagster-home")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as test_instance:
        test_instance.wipe()
        yield test_instance


@pytest.fixture(scope="session")
def stack_instance(stack: dict[str, str]) -> Iterator[dg.DagsterInstance]:
    """The instance the stack's webserver and daemon use."""
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(stack["DAGSTER_HOME"])) as shared:
        yield shared


@pytest.fixture(scope="session")
def backfill(resources: dict[str, Any], instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    from weather.assets import weather_observations

    cities = sorted(CITIES)
    return dg.materialize(
        [weather_observations],
        instance=instance,
        resources={**resources, "weather_source": WeatherSource(kind="synthetic")},
        tags={
            "dagster/asset_partition_range_start": f"{cities[0]}|{FIRST}",
            "dagster/asset_partition_range_end": f"{cities[-1]}|{LAST}",
        },
    )


@pytest.fixture(scope="session")
def control_limits(resources: dict[str, Any], instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The control-limits table the bioreactor marts read (the daemon also makes it when missing)."""
    from bioreactor.assets import bioreactor_control_limits

    return dg.materialize([bioreactor_control_limits], instance=instance, resources=resources)


WEATHER_MODELS = ["lake/staging/stg_weather", "marts/analytics/daily_weather_summary"]


@pytest.fixture(scope="session")
def dbt_build(
    backfill: dg.ExecuteInProcessResult, resources: dict[str, Any], instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    return build_weather_models(instance, resources)


def build_weather_models(
    instance: dg.DagsterInstance, resources: dict[str, Any]
) -> dg.ExecuteInProcessResult:
    """`dbt build` of the weather models, as the analytics location runs it."""
    from dagster_dbt import DbtCliResource

    from analytics.assets import wharf_dbt_models
    from analytics.definitions import DBT_EXECUTABLE
    from analytics.project import wharf_dbt

    return dg.materialize(
        [wharf_dbt_models],
        instance=instance,
        selection=dg.AssetSelection.keys(*(dg.AssetKey.from_user_string(k) for k in WEATHER_MODELS)),
        resources={**resources, "dbt": DbtCliResource(project_dir=wharf_dbt, dbt_executable=DBT_EXECUTABLE)},
    )


START = datetime(2025, 6, 1, tzinfo=UTC)
MINUTES = 120
GOOD = ("B-IT-1", "B-IT-2")
BAD = {
    "B-IT-corrupt": ("corrupt", "corrupt"),
    "B-IT-empty": ("empty", "empty"),
    "B-IT-schema": ("wrong-schema", "wrong_schema"),
}
TIMEOUT_S = 900


SPIKED = GOOD[1]  # one reading at 39.5 °C: an excursion its 5-minute average hides


def good_batch(batch: str) -> pa.Table:
    table = batch_table(batch, START, MINUTES, 7)
    if batch != SPIKED:
        return table
    temperature = [37.0] * MINUTES
    temperature[30] = 39.5
    return table.set_column(
        table.schema.get_field_index("temperature_c"), "temperature_c", pa.array(temperature)
    )


def landing_key(batch: str) -> str:
    return f"bioreactor/{batch}.parquet"


T = TypeVar("T")


def eventually(
    what: str, probe: Callable[[], T | None], timeout_s: float = TIMEOUT_S, every_s: float = 1
) -> T:
    """Poll `probe` until it returns something true and return that; fail naming `what` after
    `timeout_s` (the stack's daemon and services act on their own schedule)."""
    deadline = time.monotonic() + timeout_s
    while not (found := probe()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(every_s)
    return found


def wait_for_runs(instance: dg.DagsterInstance, keys: list[str], after: float) -> dict[str, dg.DagsterRun]:
    """The newest run per landing key started after `after`, once every one has finished."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        runs: dict[str, dg.DagsterRun] = {}
        for record in instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name)):
            if record.create_timestamp.timestamp() < after:
                continue
            for key in landing_keys(record.dagster_run):
                if key in keys and key not in runs:
                    runs[key] = record.dagster_run
        if len(runs) == len(keys) and all(r.is_finished for r in runs.values()):
            return runs
        time.sleep(5)
    raise AssertionError(f"the daemon did not finish runs for {keys} within {TIMEOUT_S} s")


def code_servers(daemon: int, location: str) -> list[psutil.Process]:
    """The daemon's code servers of `location` (the webserver's are left alone)."""
    servers = []
    for child in psutil.Process(daemon).children(recursive=True):
        with suppress(psutil.NoSuchProcess):
            args = child.cmdline()
            if "--location-name" in args and args[args.index("--location-name") + 1] == location:
                servers.append(child)
    return servers


def quarantine_reason(batch: str) -> dict[str, Any]:
    body = s3_client().get_object(Bucket="landing", Key=f"quarantine/{landing_key(batch)}.reason.json")[
        "Body"
    ]
    reason: dict[str, Any] = json.loads(body.read())
    return reason


@pytest.fixture(scope="session")
def landed(stack: dict[str, str], stack_instance: dg.DagsterInstance) -> dict[str, dg.DagsterRun]:
    s3 = s3_client()
    after = time.time() - 1
    for batch in GOOD:
        s3.put_object(Bucket="landing", Key=landing_key(batch), Body=to_parquet(good_batch(batch)))
    for batch, (mode, _) in BAD.items():
        s3.put_object(Bucket="landing", Key=landing_key(batch), Body=bad_file(mode, batch, START, 7))
    return wait_for_runs(stack_instance, [landing_key(b) for b in (*GOOD, *BAD)], after)


IDLE_TIMEOUT_S = 300


def wait_until_idle(instance: dg.DagsterInstance) -> None:
    """Let the runs the stack's daemon launched (the asset sensor's dbt run) finish first."""
    busy = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    eventually(
        "the stack's runs finish",
        lambda: not instance.get_runs_count(dg.RunsFilter(statuses=busy)),
        IDLE_TIMEOUT_S,
        every_s=5,
    )


@pytest.fixture(scope="session")
def nightly_build(
    backfill: dg.ExecuteInProcessResult,
    control_limits: dg.ExecuteInProcessResult,
    landed: dict[str, dg.DagsterRun],
    stack_instance: dg.DagsterInstance,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
) -> dg.ExecuteInProcessResult:
    """The nightly schedule's run for one night, executed once the stack's own runs are done: every
    model built over the tier's weather and batches."""
    from analytics.automation import nightly_dbt_build
    from analytics.definitions import defs

    wait_until_idle(stack_instance)
    tick = datetime(2025, 11, 3, 2, 0, tzinfo=ZoneInfo("Europe/London"))
    evaluation = nightly_dbt_build.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))
    requests = evaluation.run_requests or []
    assert len(requests) == 1
    job = defs.resolve_job_def(nightly_dbt_build.job_name)
    return job.execute_in_process(instance=instance, tags=requests[0].tags, resources=resources)


def _chromium() -> tuple[str, str]:
    found = [shutil.which(name) for name in CHROMIUM]
    if None in found:
        try:
            debian.install("chromium", "chromium-driver")
        except debian.PackagesMissing as error:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(f"no headless Chromium here: {error}")
        found = [shutil.which(name) for name in CHROMIUM]
    browser, driver = found
    assert browser and driver, "chromium and chromedriver are installed but not on PATH"
    return browser, driver


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """Debian's headless Chromium, driven by Selenium (no browser download)."""
    binary, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,2000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
