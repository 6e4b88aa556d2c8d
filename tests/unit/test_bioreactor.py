"""bioreactor: the file contract, the landing sensor, ingestion with quarantine, channel statistics."""

import json
import os
import statistics
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pyarrow as pa
import pytest
from dagster._core.storage.dagster_run import DagsterRun

from bioreactor.assets import (
    BATCHES,
    CONTROL_LIMITS,
    bioreactor_readings,
    channel_statistics,
    landing_files,
)
from bioreactor.batch_files import RejectedFile, parse_batch_file
from bioreactor.generate import BAD_MODES, bad_file, batch_table, main, to_parquet
from bioreactor.sensors import MAX_ATTEMPTS, bioreactor_landing_sensor, ingest_job
from bioreactor.tables import BIOREACTOR_READINGS, channel_stats_table
from wharf_shared.landing import LandingStore

START = datetime(2025, 6, 1, tzinfo=UTC)
EXPECTED_REASON = {
    "corrupt": "corrupt",
    "empty": "empty",
    "wrong-schema": "wrong_schema",
    "out-of-range": "out_of_range",
    "nulls": "nulls",
    "nan": "not_finite",
    "duplicate-timestamps": "duplicate_timestamps",
    "infinite": "not_finite",
    "future": "future_timestamp",
    "too-early": "too_early",
    "too-long": "too_long",
}


def _land(landing: LandingStore, batch_id: str, data: bytes, mtime: float | None = None) -> str:
    key = f"bioreactor/{batch_id}.parquet"
    landing.write(key, data)
    if mtime is not None:  # stores stamp arrival times; the folder store uses the file's mtime
        path = os.path.join(landing.url.removeprefix("file://"), key)
        os.utime(path, (mtime, mtime))
    return key


def _ingest(
    key: str, batch_id: str, resources: dict[str, Any], instance: dg.DagsterInstance, attempt: int = 0
) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(BATCHES, [batch_id])
    config = {"keys": [key], "attempt": attempt}
    return dg.materialize(
        [bioreactor_readings],
        resources=resources,
        instance=instance,
        partition_key=batch_id,
        run_config={"ops": {bioreactor_readings.node_def.name: {"config": config}}},
    )


def _tick(instance: dg.DagsterInstance, landing: LandingStore) -> dg.SensorResult:
    """One evaluation of the landing sensor, as the daemon would run it."""
    context = dg.build_sensor_context(instance=instance, resources={"landing": landing})
    result = bioreactor_landing_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _partitions(result: dg.SensorResult) -> list[str | None]:
    return [r.partition_key for r in result.run_requests or []]


def test_generator_is_deterministic_and_within_control_limits_mostly() -> None:
    table = batch_table("B-1", START, 600, seed=3)
    assert table.equals(batch_table("B-1", START, 600, seed=3))
    assert table.num_rows == 600
    low, high = CONTROL_LIMITS["temperature_c"]
    inside = [low <= t <= high for t in table["temperature_c"].to_pylist()]
    assert sum(inside) / len(inside) > 0.9


def test_a_good_file_parses_into_the_lake_shape() -> None:
    data = to_parquet(batch_table("B-7", START, 30, seed=0))
    batch = parse_batch_file("bioreactor/B-7.parquet", data)
    rows = pa.concat_tables(batch.rows())
    assert batch.batch_id == "B-7"
    assert batch.readings == rows.num_rows == 30
    assert rows.schema == BIOREACTOR_READINGS.arrow_schema
    assert set(rows["source_file"].to_pylist()) == {"bioreactor/B-7.parquet"}


@pytest.mark.parametrize("mode", sorted(EXPECTED_REASON))
def test_each_bad_file_is_refused_with_its_reason(mode: str) -> None:
    with pytest.raises(RejectedFile) as rejected:
        parse_batch_file("bioreactor/B-X.parquet", bad_file(mode, "B-X", START, seed=0))
    assert rejected.value.reason == EXPECTED_REASON[mode]


def test_a_file_naming_another_batch_is_refused() -> None:
    data = to_parquet(batch_table("B-1", START, 10, seed=0))
    with pytest.raises(RejectedFile, match="file name says 'B-2'") as rejected:
        parse_batch_file("bioreactor/B-2.parquet", data)
    assert rejected.value.reason == "batch_mismatch"


def test_naive_timestamps_and_integer_channels_are_accepted() -> None:
    table = batch_table("B-3", START, 5, seed=0)
    naive = table.set_column(1, "ts", table["ts"].cast(pa.timestamp("ms")))
    naive = naive.set_column(5, "agitation_rpm", pa.array([150] * 5, pa.int32()))
    rows = pa.concat_tables(parse_batch_file("bioreactor/B-3.parquet", to_parquet(naive)).rows())
    assert rows["ts"][0].as_py() == START
    assert rows["agitation_rpm"].to_pylist() == [150.0] * 5


def _record_run(
    instance: dg.DagsterInstance, request: dg.RunRequest, status: dg.DagsterRunStatus
) -> DagsterRun:
    """A run of the ingest job as the daemon would have created it from `request`, in `status`."""
    return instance.add_run(DagsterRun(job_name=ingest_job.name, tags=dict(request.tags), status=status))


def _execute(
    request: dg.RunRequest, resources: dict[str, Any], instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """The run the daemon would launch for `request`, in process."""
    defs = dg.Definitions(assets=[bioreactor_readings], jobs=[ingest_job], resources=resources)
    return defs.resolve_job_def(ingest_job.name).execute_in_process(
        run_config=request.run_config,
        instance=instance,
        tags=request.tags,
        partition_key=request.partition_key,
        raise_on_error=False,
    )


def test_a_burst_of_new_batches_is_one_run_and_each_file_keeps_its_outcome(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing, iceberg = resources["landing"], resources["iceberg"]
    good = {f"B-{i}": batch_table(f"B-{i}", START, 20, seed=i) for i in range(1, 5)}
    for batch_id, table in good.items():
        _land(landing, batch_id, to_parquet(table), mtime=1_700_000_000 + int(batch_id[2:]))
    bad = bad_file("nan", "B-9", START, seed=0)
    _land(landing, "B-9", bad, mtime=1_700_000_010)
    result = _tick(instance, landing)
    (request,) = result.run_requests or []
    assert [r.partition_keys for r in result.dynamic_partitions_requests or []] == [[*good, "B-9"]]
    assert request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == "B-1"
    assert request.tags["dagster/asset_partition_range_end"] == "B-9"
    config = request.run_config["ops"]["lake__raw__bioreactor_readings"]["config"]
    assert config["keys"] == [f"bioreactor/{b}.parquet" for b in [*good, "B-9"]]
    assert request.tags["dagster/max_retries"] == "0"  # the sensor is the one retrier

    instance.add_dynamic_partitions(BATCHES, [*good, "B-9"])  # as the daemon does before the run
    run = _execute(request, resources, instance)
    assert run.success  # one bad file does not fail the run
    materialized = run.asset_materializations_for_node(bioreactor_readings.node_def.name)
    assert sorted(str(m.partition) for m in materialized) == sorted(good)
    (check,) = run.get_asset_check_evaluations()
    assert not check.passed
    assert set(check.metadata["quarantined"].value) == {"bioreactor/B-9.parquet"}  # type: ignore[arg-type]
    assert json.loads(landing.read("quarantine/bioreactor/B-9.parquet.reason.json"))["reason"] == "not_finite"
    rows = iceberg.read(BIOREACTOR_READINGS)
    assert rows.num_rows == sum(t.num_rows for t in good.values())
    snapshot = iceberg.table(BIOREACTOR_READINGS).current_snapshot()
    assert snapshot is not None and snapshot.summary["added-records"] == str(rows.num_rows)  # one commit
    assert landing.list("bioreactor/") == []


def test_a_second_file_of_a_batch_waits_for_the_run_of_the_first_then_is_a_duplicate(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing = resources["landing"]
    data = to_parquet(batch_table("B-1", START, 10, 0))
    _land(landing, "B-1", data, mtime=1_700_000_000)
    (first,) = _tick(instance, landing).run_requests or []
    started = _record_run(instance, first, dg.DagsterRunStatus.STARTED)
    landing.write("bioreactor/again/B-1.parquet", data)  # the same batch, another name
    assert _tick(instance, landing).run_requests == []  # B-1 has a run in flight
    instance.add_dynamic_partitions(BATCHES, ["B-1"])
    assert _execute(first, resources, instance).success
    instance.report_run_failed(started)  # its record only; the batch is in the lake
    (second,) = _tick(instance, landing).run_requests or []
    assert second.partition_key == "B-1"
    assert second.run_config["ops"]["lake__raw__bioreactor_readings"]["config"]["keys"] == [
        "bioreactor/again/B-1.parquet"
    ]
    assert not _execute(second, resources, instance).get_asset_check_evaluations()[0].passed
    reason = json.loads(landing.read("quarantine/bioreactor/again/B-1.parquet.reason.json"))
    assert reason["reason"] == "duplicate"


def test_a_failed_run_is_retried_and_a_file_in_flight_is_not_requested_twice(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing = resources["landing"]
    _land(landing, "B-1", to_parquet(batch_table("B-1", START, 10, 0)))
    (first,) = _tick(instance, landing).run_requests or []
    started = _record_run(instance, first, dg.DagsterRunStatus.STARTED)
    assert _tick(instance, landing).run_requests == []  # its run is on its way
    instance.report_run_failed(started)  # as run monitoring does when a launch never comes up
    (retry,) = _tick(instance, landing).run_requests or []
    assert retry.partition_key == "B-1" and retry.run_key != first.run_key
    assert retry.run_config["ops"]["lake__raw__bioreactor_readings"]["config"]["attempt"] == 1


def test_a_file_whose_runs_keep_failing_is_quarantined(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing = resources["landing"]
    data = to_parquet(batch_table("B-4", START, 10, 0))
    _land(landing, "B-4", data)
    for _ in range(MAX_ATTEMPTS):
        (request,) = _tick(instance, landing).run_requests or []
        _record_run(instance, request, dg.DagsterRunStatus.FAILURE)
    assert _tick(instance, landing).run_requests == []
    reason = json.loads(landing.read("quarantine/bioreactor/B-4.parquet.reason.json"))
    assert reason["reason"] == "ingest_failed"
    assert landing.read("quarantine/bioreactor/B-4.parquet") == data


def test_sensor_gives_a_reuploaded_file_a_new_run_key(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing = resources["landing"]
    data = to_parquet(batch_table("B-1", START, 10, 0))
    _land(landing, "B-1", data, mtime=1_700_000_000)
    (first,) = _tick(instance, landing).run_requests or []
    _record_run(instance, first, dg.DagsterRunStatus.SUCCESS)
    _land(landing, "B-1", data, mtime=1_700_000_100)
    (second,) = _tick(instance, landing).run_requests or []
    assert first.run_key != second.run_key
    assert second.run_config["ops"]["lake__raw__bioreactor_readings"]["config"]["attempt"] == 0


def test_a_retry_completes_an_attempt_that_committed_but_did_not_move_the_file(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing, iceberg = resources["landing"], resources["iceberg"]
    data = to_parquet(batch_table("B-5", START, 30, 0))
    assert _ingest(_land(landing, "B-5", data), "B-5", resources, instance).success
    _land(landing, "B-5", data)  # as if the first attempt had stopped after its commit
    retry = _ingest("bioreactor/B-5.parquet", "B-5", resources, instance, attempt=1)
    assert retry.get_asset_check_evaluations()[0].passed
    assert landing.list("bioreactor/") == [] and landing.list("quarantine/") == []
    assert iceberg.read(BIOREACTOR_READINGS).num_rows == 30  # not appended twice


def test_sensor_quarantines_a_misnamed_file_and_goes_on(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing = resources["landing"]
    landing.write("bioreactor/notes.txt", b"not a batch")
    _land(landing, "B-9", to_parquet(batch_table("B-9", START, 10, 0)))
    assert _partitions(_tick(instance, landing)) == ["B-9"]
    reason = json.loads(landing.read("quarantine/bioreactor/notes.txt.reason.json"))
    assert reason["reason"] == "bad_name"
    assert landing.read("quarantine/bioreactor/notes.txt") == b"not a batch"
    assert [o.key for o in landing.list("bioreactor/")] == ["bioreactor/B-9.parquet"]


def test_ingestion_appends_good_files_once_and_quarantines_the_rest(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing, iceberg = resources["landing"], resources["iceberg"]
    good = {b: batch_table(b, START, 120, seed=i) for i, b in enumerate(("B-1", "B-2"))}
    for batch_id, table in good.items():
        result = _ingest(_land(landing, batch_id, to_parquet(table)), batch_id, resources, instance)
        assert result.get_asset_check_evaluations()[0].passed

    for mode in BAD_MODES:
        batch_id = "B-1" if mode == "duplicate" else f"B-{mode}"
        data = bad_file(mode, batch_id, START, seed=5)
        result = _ingest(_land(landing, batch_id, data), batch_id, resources, instance)
        assert result.success, mode  # a bad file is reported, not a failed run
        check = result.get_asset_check_evaluations()[0]
        assert not check.passed, mode
        assert result.asset_materializations_for_node(bioreactor_readings.node_def.name) == []
        reason = json.loads(landing.read(f"quarantine/bioreactor/{batch_id}.parquet.reason.json"))
        assert reason["reason"] == EXPECTED_REASON.get(mode, mode), reason
        assert landing.read(f"quarantine/bioreactor/{batch_id}.parquet") == data

    assert landing.list("bioreactor/") == []  # nothing left waiting: a tick lists no history
    processed = sorted(o.key.rsplit("/", 1)[-1] for o in landing.list("processed/"))
    assert processed == ["B-1.parquet", "B-2.parquet"]
    rows = iceberg.read(BIOREACTOR_READINGS)
    assert rows.num_rows == sum(t.num_rows for t in good.values())
    for batch_id, table in good.items():
        stored = rows.filter(pa.compute.equal(rows["batch_id"], batch_id)).sort_by("ts")
        assert stored["ph"].to_pylist() == table["ph"].to_pylist()


def test_channel_statistics_compute_each_group_and_can_be_subset(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    table = batch_table("B-5", START, 240, seed=1)
    _ingest(_land(resources["landing"], "B-5", to_parquet(table)), "B-5", resources, instance)
    chemistry_key = channel_stats_table("chemistry").asset_key
    result = dg.materialize(
        [bioreactor_readings, channel_statistics],
        selection=[chemistry_key],  # one group of the multi-asset, on its own
        resources=resources,
        instance=instance,
        partition_key="B-5",
    )
    assert result.success
    assert [m.asset_key for m in result.get_asset_materialization_events()] == [chemistry_key]
    chemistry = {
        r["channel"]: r for r in resources["iceberg"].read(channel_stats_table("chemistry")).to_pylist()
    }
    ph = table["ph"].to_pylist()
    low, high = CONTROL_LIMITS["ph"]
    assert chemistry["ph"]["readings"] == 240
    assert chemistry["ph"]["mean"] == pytest.approx(statistics.fmean(ph))
    assert chemistry["ph"]["excursions"] == sum(1 for v in ph if v < low or v > high)
    assert set(chemistry) == {"ph", "dissolved_oxygen_pct"}
    every_group = dg.materialize(
        [bioreactor_readings, channel_statistics],
        selection=[channel_statistics],
        resources=resources,
        instance=instance,
        partition_key="B-5",
    )
    assert {m.asset_key for m in every_group.get_asset_materialization_events()} == {
        channel_stats_table(group).asset_key for group in ("thermal", "chemistry", "mechanics")
    }


def test_channel_statistics_of_a_range_of_batches_are_one_run_equal_to_each_batchs_own(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    tables = {b: batch_table(b, START, 90, seed=i) for i, b in enumerate(("B-1", "B-2", "B-3"))}
    for batch_id, table in tables.items():
        _ingest(_land(resources["landing"], batch_id, to_parquet(table)), batch_id, resources, instance)
    thermal = channel_stats_table("thermal")
    result = dg.materialize(
        [bioreactor_readings, channel_statistics],
        selection=[thermal.asset_key],
        resources=resources,
        instance=instance,
        tags={"dagster/asset_partition_range_start": "B-1", "dagster/asset_partition_range_end": "B-3"},
    )
    assert result.success
    assert sorted(str(m.partition) for m in result.get_asset_materialization_events()) == sorted(tables)
    stored = {r["batch_id"]: r for r in resources["iceberg"].read(thermal).to_pylist()}
    for batch_id, table in tables.items():
        temperature = table["temperature_c"].to_pylist()
        low, high = CONTROL_LIMITS["temperature_c"]
        assert stored[batch_id]["readings"] == 90
        assert stored[batch_id]["mean"] == pytest.approx(statistics.fmean(temperature))
        assert stored[batch_id]["excursions"] == sum(1 for v in temperature if v < low or v > high)


def test_observing_the_landing_prefix_reports_count_and_newest(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    landing = resources["landing"]
    _land(landing, "B-1", b"x", mtime=1_700_000_000)
    _land(landing, "B-2", b"y", mtime=1_700_000_500)
    defs = dg.Definitions(
        assets=[landing_files], jobs=[dg.define_asset_job("observe", [landing_files])], resources=resources
    )
    result = defs.resolve_job_def("observe").execute_in_process(instance=instance)
    observation = result.asset_observations_for_node(landing_files.op.name)[0]
    assert observation.metadata["file_count"].value == 2
    assert observation.metadata["newest_file"].value == "bioreactor/B-2.parquet"


def test_generator_command_writes_good_and_bad_files(data_dir: Any) -> None:
    url = (data_dir / "landing").as_uri()
    main(["--landing", url, "--batches", "2", "--minutes", "30"])
    main(["--landing", url, "--bad", "corrupt"])
    landing = LandingStore(url=url)
    keys = [o.key for o in landing.list("bioreactor/")]
    assert {k.rsplit("/", 1)[1] for k in keys} == {
        "B-20250601-000.parquet",
        "B-20250602-001.parquet",
        "B-BAD-corrupt.parquet",
    }
    assert (
        parse_batch_file(
            "bioreactor/B-20250601-000.parquet", landing.read("bioreactor/B-20250601-000.parquet")
        ).readings
        == 30
    )


def test_a_run_whose_check_another_run_overtook_is_refused_and_its_retry_quarantines_the_duplicate(
    resources: dict[str, Any], instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of one batch interleaved at the worst point: the other commits between this run's
    duplicate check and its append."""
    from pyiceberg.exceptions import CommitFailedException

    from bioreactor import ingestion

    landing, iceberg = resources["landing"], resources["iceberg"]
    ours, theirs = batch_table("B-1", START, 30, seed=1), batch_table("B-1", START, 30, seed=2)
    key = _land(landing, "B-1", to_parquet(ours))
    check = ingestion._stored

    other_run = parse_batch_file("bioreactor/x/B-1.parquet", to_parquet(theirs))

    def overtaken(table: Any, batch_ids: list[str]) -> dict[str, pa.Table]:
        seen = check(table, batch_ids)  # nothing of B-1 yet...
        iceberg.append(BIOREACTOR_READINGS, other_run.rows())
        return seen  # ...and then the other run's commit lands

    monkeypatch.setattr(ingestion, "_stored", overtaken)
    with pytest.raises(CommitFailedException):
        ingestion.ingest_files(landing, iceberg, [key], {"B-1"}, retry=False)
    assert landing.list("bioreactor/")[0].key == key  # still waiting, nothing half-done
    monkeypatch.setattr(ingestion, "_stored", check)
    retried = ingestion.ingest_files(landing, iceberg, [key], {"B-1"}, retry=True)
    assert retried.rejected[key].reason == "duplicate"
    rows = iceberg.read(BIOREACTOR_READINGS)
    assert rows.num_rows == 30 and set(rows["source_file"].to_pylist()) == {"bioreactor/x/B-1.parquet"}


def test_a_readings_table_made_before_its_properties_gets_them_when_loaded(resources: dict[str, Any]) -> None:
    from dataclasses import replace

    iceberg = resources["iceberg"]
    iceberg.table(replace(BIOREACTOR_READINGS, properties=()))  # as an older deployment made it
    older = iceberg.catalog().load_table(BIOREACTOR_READINGS.identifier)
    assert "commit.retry.num-retries" not in older.properties
    assert iceberg.table(BIOREACTOR_READINGS).properties["commit.retry.num-retries"] == "0"


def test_the_control_limits_wait_out_a_lake_that_is_still_starting() -> None:
    """On a fresh kind cluster Nessie answered 5 minutes after the daemon first asked for the table;
    the run's retries must span more than that."""
    from bioreactor.assets import bioreactor_control_limits

    policy = bioreactor_control_limits.op.retry_policy
    assert policy is not None and policy.delay is not None
    factor = 2 if policy.backoff == dg.Backoff.EXPONENTIAL else 1
    waited = sum(policy.delay * factor**attempt for attempt in range(policy.max_retries))
    assert waited >= 10 * 60, waited


def test_a_fresh_deployment_makes_the_control_limits_the_marts_read(
    instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    """On the first evaluation and any later one while the table is missing; not once it exists."""
    from bioreactor.assets import bioreactor_control_limits

    assets = [bioreactor_control_limits]
    defs = dg.Definitions(assets=assets, resources=resources)
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.get_requested_partitions(bioreactor_control_limits.key) == {None}
    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert again.get_requested_partitions(bioreactor_control_limits.key) == {None}  # still missing
    assert dg.materialize(assets, instance=instance, resources=resources).success
    made = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=again.cursor)
    assert made.total_requested == 0
