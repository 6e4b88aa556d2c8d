"""OpenLineage: one job per table, named as Trino names the table; run events reach a real HTTP
endpoint."""

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import dagster as dg
import pytest

from wharf_shared.lineage import (
    DagsterRunRef,
    LineageResource,
    TableStep,
    dataset_name,
    emit_run_event,
    lineage_sensors,
    table_steps,
)

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


def test_each_table_is_a_job_reading_the_tables_it_is_built_from() -> None:
    from analytics.definitions import defs

    stg = dg.AssetKey(["lake", "staging", "stg_weather"])
    summary = dg.AssetKey(["marts", "analytics", "daily_weather_summary"])
    steps = table_steps({stg, summary, dg.AssetKey(["landing", "bioreactor"])}, defs.resolve_asset_graph())
    assert set(steps) == {stg, summary}
    assert steps[stg].inputs == {"lake.raw.weather_observations"}  # a source, another location's table
    assert steps[summary].inputs == {"lake.staging.stg_weather"}  # read in the same run, still an input
    assert steps[stg].run_id("r1") == steps[stg].run_id("r1") != steps[stg].run_id("r2")
    assert steps[stg].run_id("r1") != steps[summary].run_id("r1")


RUN = DagsterRunRef("0d9a39d4-3f0c-4f0e-9a52-2d6f3f1b6a10", "j", "weather")


def test_disabled_lineage_sends_nothing() -> None:
    lineage = LineageResource(url="", dataset_namespace=NAMESPACE)
    assert not lineage.emit(TableStep("lake.raw.t", frozenset()), "START", RUN)


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
    assert all(e["path"] == "/api/v1/lineage" for e in _Collector.events)
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", "lake.raw.weather_observations"),
        ("COMPLETE", "lake.raw.weather_observations"),
        ("FAIL", "lake.raw.broken_table"),
    ]
    start, complete, fail = events
    assert start["run"]["runId"] == complete["run"]["runId"] != fail["run"]["runId"]
    assert complete["job"]["namespace"] == "lakehouse"
    facet = complete["run"]["facets"]["dagster_run"]
    assert (facet["runId"], facet["jobName"]) == (succeeded.run_id, "__ephemeral_asset_job__")
    assert "parent" not in complete["run"]["facets"]  # Marquez would prefix the job with its parent's name
    assert [(o["namespace"], o["name"]) for o in complete["outputs"]] == [
        (NAMESPACE, "lake.raw.weather_observations")
    ]
    # The table's columns, with types, from the run that wrote it; a START adds no dataset version.
    schema = complete["outputs"][0]["facets"]["schema"]["fields"]
    assert {"temperature_c", "observed_at"} <= {f["name"] for f in schema} and all(f["type"] for f in schema)
    assert start["outputs"] == []
    assert fail["run"]["facets"]["dagster_run"]["runId"] == failed.run_id


@dg.asset(key=["lake", "raw", "readings"])
def readings() -> None:
    pass


@dg.asset(key=["lake", "staging", "hourly"], deps=[readings])
def hourly() -> dg.MaterializeResult:  # type: ignore[type-arg]
    lineage = dg.TableColumnLineage(
        deps_by_column={
            "mean_temp": [dg.TableColumnDep(asset_key=readings.key, column_name="temp")],
            "hour": [dg.TableColumnDep(asset_key=readings.key, column_name="observed_at")],
        }
    )
    schema = dg.TableSchema(
        columns=[dg.TableColumn("hour", "timestamp"), dg.TableColumn("mean_temp", "double")]
    )
    return dg.MaterializeResult(metadata={"dagster/column_lineage": lineage, "dagster/column_schema": schema})


@dg.asset(key=["lake", "intermediate", "daily"], deps=[hourly])
def daily() -> None:
    raise RuntimeError("the build broke")


def test_a_run_ends_per_table_with_the_column_lineage_it_recorded(
    marquez: str, instance: dg.DagsterInstance
) -> None:
    """Tables built before a failure complete, with their columns' sources; the rest fail. Each
    table's event follows those of the tables it reads (Marquez links a column to a known one)."""
    result = dg.materialize([readings, hourly, daily], instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    graph = dg.Definitions(assets=[readings, hourly, daily]).get_repository_def().asset_graph
    assert emit_run_event(
        instance, run, graph, LineageResource(url=marquez, dataset_namespace=NAMESPACE), "FAIL"
    )

    ended = {e["event"]["job"]["name"]: e["event"] for e in _Collector.events}
    assert [(name, event["eventType"]) for name, event in ended.items()] == [
        ("lake.raw.readings", "COMPLETE"),
        ("lake.staging.hourly", "COMPLETE"),
        ("lake.intermediate.daily", "FAIL"),
    ]
    assert [i["name"] for i in ended["lake.intermediate.daily"]["inputs"]] == ["lake.staging.hourly"]
    (output,) = ended["lake.staging.hourly"]["outputs"]
    fields = output["facets"]["columnLineage"]["fields"]
    assert {
        column: [(f["name"], f["field"]) for f in field["inputFields"]] for column, field in fields.items()
    } == {
        "hour": [("lake.raw.readings", "observed_at")],
        "mean_temp": [("lake.raw.readings", "temp")],
    }
    assert [(f["name"], f["type"]) for f in output["facets"]["schema"]["fields"]] == [
        ("hour", "timestamp"),
        ("mean_temp", "double"),
    ]
    # An input is named, not described: its fields come from its own producer's schema, with types.
    (source,) = ended["lake.staging.hourly"]["inputs"]
    assert (source["name"], source.get("facets") or {}) == ("lake.raw.readings", {})
    assert not ended["lake.raw.readings"]["outputs"][0].get("facets")


def test_an_unknown_state_is_refused(instance: dg.DagsterInstance) -> None:
    result = dg.materialize([readings], instance=instance)
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    graph = dg.Definitions(assets=[readings]).get_repository_def().asset_graph
    with pytest.raises(ValueError, match="START, COMPLETE, FAIL"):
        emit_run_event(instance, run, graph, LineageResource(url="", dataset_namespace=NAMESPACE), "DONE")


def test_lineage_never_fails_when_marquez_is_unreachable() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lineage = LineageResource(url=f"http://127.0.0.1:{port}", dataset_namespace=NAMESPACE)
    assert lineage.emit(TableStep("lake.raw.t", frozenset()), "START", RUN) is False
