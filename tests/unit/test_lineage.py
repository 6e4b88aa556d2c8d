"""OpenLineage: dataset names join with Trino's, run events reach a real HTTP endpoint."""

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import dagster as dg
import pytest

from wharf_shared.lineage import LineageResource, dataset_name, lineage_sensors, run_datasets

NAMESPACE = "trino://trino.wharf.svc:8080"


class _Collector(http.server.BaseHTTPRequestHandler):
    events: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).events.append({"path": self.path, "event": json.loads(body)})
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def marquez() -> Iterator[str]:
    _Collector.events.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_table_assets_are_named_as_trino_names_them() -> None:
    assert (
        dataset_name(dg.AssetKey(["lake", "raw", "weather_observations"])) == "lake.raw.weather_observations"
    )
    assert dataset_name(dg.AssetKey(["marts", "analytics", "dim_batch"])) == "marts.analytics.dim_batch"
    assert dataset_name(dg.AssetKey(["landing", "bioreactor"])) is None


def test_a_dbt_run_reads_the_raw_tables_of_other_locations() -> None:
    from analytics.definitions import defs

    stg = dg.AssetKey(["lake", "staging", "stg_weather"])
    summary = dg.AssetKey(["marts", "analytics", "daily_weather_summary"])
    inputs, outputs = run_datasets({stg, summary}, defs.resolve_asset_graph())
    assert outputs == {"lake.staging.stg_weather", "marts.analytics.daily_weather_summary"}
    assert inputs == {"lake.raw.weather_observations"}


def test_disabled_lineage_sends_nothing() -> None:
    lineage = LineageResource(url="", dataset_namespace=NAMESPACE)
    assert not lineage.emit(
        run_id="0d9a39d4-3f0c-4f0e-9a52-2d6f3f1b6a10",
        job_name="j",
        state="START",
        inputs=[],
        outputs=["lake.raw.t"],
    )


def _evaluate(
    sensor: dg.SensorDefinition,
    result: dg.ExecuteInProcessResult,
    event_type: dg.DagsterEventType,
    instance: dg.DagsterInstance,
    repository: Any,
    lineage: LineageResource,
) -> None:
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=next(e for e in result.all_events if e.event_type == event_type),
        dagster_instance=instance,
        dagster_run=run,
        repository_def=repository,
        resources={"lineage": lineage},
    )
    sensor(context)


@dg.asset(key=["lake", "raw", "broken_table"])
def broken_table() -> None:
    raise RuntimeError("the source is down")


def test_each_run_status_emits_its_own_event(
    marquez: str, resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    from weather.assets import weather_observations
    from weather.definitions import defs as weather_defs
    from weather.source import WeatherSource

    sensors = {sensor._run_status: sensor for sensor in lineage_sensors()}  # type: ignore[attr-defined]
    lineage = LineageResource(url=marquez, dataset_namespace=NAMESPACE)
    succeeded = dg.materialize(
        [weather_observations],
        partition_key="london|2025-01-05",
        instance=instance,
        resources={**resources, "weather_source": WeatherSource()},
    )
    weather = weather_defs.get_repository_def()
    _evaluate(
        sensors[dg.DagsterRunStatus.STARTED],
        succeeded,
        dg.DagsterEventType.RUN_START,
        instance,
        weather,
        lineage,
    )
    _evaluate(
        sensors[dg.DagsterRunStatus.SUCCESS],
        succeeded,
        dg.DagsterEventType.RUN_SUCCESS,
        instance,
        weather,
        lineage,
    )
    failed = dg.materialize([broken_table], instance=instance, raise_on_error=False)
    assert not failed.success
    broken = dg.Definitions(assets=[broken_table]).get_repository_def()
    _evaluate(
        sensors[dg.DagsterRunStatus.FAILURE],
        failed,
        dg.DagsterEventType.RUN_FAILURE,
        instance,
        broken,
        lineage,
    )

    events = [e["event"] for e in _Collector.events]
    assert [(e["eventType"], e["run"]["runId"]) for e in events] == [
        ("START", succeeded.run_id),
        ("COMPLETE", succeeded.run_id),
        ("FAIL", failed.run_id),
    ]
    assert all(e["path"] == "/api/v1/lineage" for e in _Collector.events)
    complete = events[1]
    assert complete["job"]["namespace"] == "lakehouse"
    assert complete["job"]["name"] == "__ephemeral_asset_job__"
    facet = complete["run"]["facets"]["dagster_run"]
    assert (facet["runId"], facet["jobName"]) == (succeeded.run_id, "__ephemeral_asset_job__")
    assert [(o["namespace"], o["name"]) for o in complete["outputs"]] == [
        (NAMESPACE, "lake.raw.weather_observations")
    ]
    assert [o["name"] for o in events[2]["outputs"]] == ["lake.raw.broken_table"]


def test_lineage_never_fails_when_marquez_is_unreachable() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lineage = LineageResource(url=f"http://127.0.0.1:{port}", dataset_namespace=NAMESPACE)
    sent = lineage.emit(
        run_id="0d9a39d4-3f0c-4f0e-9a52-2d6f3f1b6a10",
        job_name="j",
        state="START",
        inputs=[],
        outputs=["lake.raw.t"],
    )
    assert sent is False
