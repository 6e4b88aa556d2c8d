"""weather: the sources, the partitioned assets on the embedded lake, checks, schedules and mappings."""

import http.server
import json
import statistics
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import dagster as dg
import pyarrow as pa
import pytest

from weather.assets import weather_monthly, weather_nowcast, weather_observations
from weather.checks import observation_check_results
from weather.cities import CITIES
from weather.partitions import contiguous_spans, daily_by_city, daily_to_monthly, monthly_by_city
from weather.schedules import daily_observations
from weather.source import WeatherSource, WeatherSourceError, parse_archive, synthetic_payload
from weather.tables import WEATHER_MONTHLY, WEATHER_NOWCAST, WEATHER_OBSERVATIONS

SYNTHETIC = WeatherSource(kind="synthetic")


def _materialize(
    assets: list[Any], resources: dict[str, Any], instance: dg.DagsterInstance, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        assets, resources={**resources, "weather_source": SYNTHETIC}, instance=instance, **kwargs
    )
    assert result.success
    return result


def test_synthetic_source_is_deterministic_and_hourly() -> None:
    first = SYNTHETIC.observations("london", date(2025, 3, 1), date(2025, 3, 2))
    again = SYNTHETIC.observations("london", date(2025, 3, 1), date(2025, 3, 2))
    other_city = SYNTHETIC.observations("berlin", date(2025, 3, 1), date(2025, 3, 2))
    assert first.equals(again)
    assert not first["temperature_c"].equals(other_city["temperature_c"])
    assert first.num_rows == 48
    assert first["observed_at"][0].as_py() == datetime(2025, 3, 1, tzinfo=UTC)


def test_payload_without_hourly_series_is_refused_with_the_missing_part() -> None:
    with pytest.raises(WeatherSourceError, match=r"lacks hourly \['precipitation'\]"):
        parse_archive(
            {"hourly": {"time": [], "temperature_2m": [], "relative_humidity_2m": [], "wind_speed_10m": []}},
            "london",
            "test",
        )
    with pytest.raises(WeatherSourceError, match=r"no 'hourly\.time'"):
        parse_archive({"error": True}, "london", "test")


class _ArchiveHandler(http.server.BaseHTTPRequestHandler):
    """An archive API on loopback answering with the synthetic payload, or 429 for city 0,0."""

    requests: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        from urllib.parse import parse_qsl, urlparse

        query = dict(parse_qsl(urlparse(self.path).query))
        type(self).requests.append(query)
        if query["latitude"] == "0.0":
            self.send_response(429)
            self.end_headers()
            self.wfile.write(b"rate limited")
            return
        city = next(c for c in CITIES.values() if str(c.latitude) == query["latitude"])
        body = json.dumps(
            synthetic_payload(
                city, date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
            )
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def archive_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ArchiveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/archive"
    server.shutdown()


def test_http_source_asks_the_archive_api_and_parses_its_answer(archive_api: str) -> None:
    source = WeatherSource(kind="open_meteo", base_url=archive_api)
    rows = source.observations("madrid", date(2025, 7, 1), date(2025, 7, 3))
    request = _ArchiveHandler.requests[-1]
    assert request["start_date"] == "2025-07-01" and request["end_date"] == "2025-07-03"
    assert request["hourly"].split(",") == [
        "temperature_2m",
        "relative_humidity_2m",
        "precipitation",
        "wind_speed_10m",
    ]
    assert rows.num_rows == 72
    assert rows["source"][0].as_py() == "open_meteo"


def test_http_source_error_names_the_status_and_city(
    archive_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CITIES, "null_island", CITIES["london"].__class__("null_island", 0.0, 0.0, 25, 1))
    source = WeatherSource(kind="open_meteo", base_url=archive_api)
    with pytest.raises(WeatherSourceError, match="answered 429 for null_island"):
        source.observations("null_island", date(2025, 7, 1), date(2025, 7, 1))


def test_one_partition_lands_24_rows_and_passes_its_checks(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    result = _materialize([weather_observations], resources, instance, partition_key="london|2025-02-10")
    rows = resources["iceberg"].read(WEATHER_OBSERVATIONS)
    assert rows.num_rows == 24
    assert set(rows["city"].to_pylist()) == {"london"}
    assert set(rows["obs_date"].to_pylist()) == {date(2025, 2, 10)}
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {
        "no_null_timestamps",
        "temperature_in_physical_range",
        "one_row_per_city_hour",
    }
    assert all(c.passed for c in checks)
    metadata = result.asset_materializations_for_node("lake__raw__weather_observations")[0].metadata
    assert metadata["rows_written"].value == 24
    assert metadata["dagster/row_count"].value == 24
    assert metadata["dagster/table_name"].value == "lake.raw.weather_observations"


def test_a_backfill_is_one_run_over_every_city_day(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    first, last = date(2025, 1, 1), date(2025, 1, 31)
    _materialize(
        [weather_observations],
        resources,
        instance,
        tags={
            "dagster/asset_partition_range_start": f"berlin|{first}",
            "dagster/asset_partition_range_end": f"madrid|{last}",
        },
    )
    assert len(instance.get_run_records()) == 1
    rows = resources["iceberg"].read(WEATHER_OBSERVATIONS)
    days = (last - first).days + 1
    assert rows.num_rows == days * len(CITIES) * 24
    assert rows.group_by(["city", "observed_at"]).aggregate([]).num_rows == rows.num_rows


def test_rerunning_a_partition_replaces_it_without_duplicates(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    for key in ("madrid|2025-05-01", "madrid|2025-05-02"):
        _materialize([weather_observations], resources, instance, partition_key=key)
    snapshot = resources["iceberg"].table(WEATHER_OBSERVATIONS).current_snapshot().snapshot_id
    rerun = _materialize([weather_observations], resources, instance, partition_key="madrid|2025-05-01")
    metadata = rerun.asset_materializations_for_node("lake__raw__weather_observations")[0].metadata
    assert metadata["changed"].value is False and metadata["rows_written"].value == 0
    assert resources["iceberg"].table(WEATHER_OBSERVATIONS).current_snapshot().snapshot_id == snapshot
    rows = resources["iceberg"].read(WEATHER_OBSERVATIONS).sort_by("observed_at")
    assert rows.num_rows == 48
    expected = SYNTHETIC.observations("madrid", date(2025, 5, 1), date(2025, 5, 2))
    assert rows["temperature_c"].to_pylist() == expected["temperature_c"].to_pylist()


def test_monthly_rollup_summarises_the_days_of_its_month(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    _materialize(
        [weather_observations],
        resources,
        instance,
        tags={
            "dagster/asset_partition_range_start": "london|2025-02-01",
            "dagster/asset_partition_range_end": "london|2025-02-28",
        },
    )
    _materialize(
        [weather_observations, weather_monthly],
        resources,
        instance,
        selection=[weather_monthly],
        partition_key="london|2025-02-01",
    )
    rollup = resources["iceberg"].read(WEATHER_MONTHLY).to_pylist()
    hourly = synthetic_payload(CITIES["london"], date(2025, 2, 1), date(2025, 2, 28))["hourly"]
    assert len(rollup) == 1
    assert rollup[0]["hours_observed"] == 28 * 24
    assert rollup[0]["temperature_mean_c"] == pytest.approx(statistics.fmean(hourly["temperature_2m"]))
    assert rollup[0]["temperature_max_c"] == max(hourly["temperature_2m"])
    assert rollup[0]["precipitation_total_mm"] == pytest.approx(sum(hourly["precipitation"]))


def test_monthly_rollup_without_observations_fails_with_a_hint(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    result = dg.materialize(
        [weather_observations, weather_monthly],
        selection=[weather_monthly],
        resources={**resources, "weather_source": SYNTHETIC},
        instance=instance,
        partition_key="berlin|2025-03-01",
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "no observations for berlin in 2025-03" in failure.message


def test_nowcast_holds_one_row_per_city_for_its_hour(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    _materialize([weather_nowcast], resources, instance, partition_key="2025-06-01-13:00")
    _materialize([weather_nowcast], resources, instance, partition_key="2025-06-01-13:00")
    rows = resources["iceberg"].read(WEATHER_NOWCAST)
    assert sorted(rows["city"].to_pylist()) == sorted(CITIES)
    assert set(rows["observed_at"].to_pylist()) == {datetime(2025, 6, 1, 13, tzinfo=UTC)}


def test_checks_fail_on_bad_rows() -> None:
    good = SYNTHETIC.observations("berlin", date(2025, 1, 1), date(2025, 1, 1))
    temperatures = good["temperature_c"].to_pylist()
    temperatures[3] = 71.0
    bad = pa.concat_tables([good, good.slice(0, 2)]).set_column(
        good.schema.get_field_index("temperature_c"),
        "temperature_c",
        pa.array(temperatures + temperatures[:2]),
    )
    results = {r.check_name: r for r in observation_check_results(bad)}
    assert results["no_null_timestamps"].passed
    assert not results["temperature_in_physical_range"].passed
    assert results["temperature_in_physical_range"].metadata["out_of_range"].value == 1
    assert not results["one_row_per_city_hour"].passed
    assert results["one_row_per_city_hour"].metadata["duplicate_rows"].value == 2


def test_daily_schedule_requests_yesterday_for_every_city() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 4, 2, 6, 30, tzinfo=UTC))
    requests = daily_observations(context)
    assert isinstance(requests, list)
    assert sorted(r.partition_key for r in requests) == [f"{c}|2025-04-01" for c in sorted(CITIES)]
    assert len({r.run_key for r in requests}) == len(CITIES)


def test_a_month_of_a_city_maps_to_that_citys_days() -> None:
    upstream = daily_to_monthly.get_upstream_mapped_partitions_result_for_partitions(
        monthly_by_city.subset_with_partition_keys(["madrid|2025-02-01"]),
        monthly_by_city,
        daily_by_city,
    ).partitions_subset.get_partition_keys()
    feb = [date(2025, 2, 1) + timedelta(days=i) for i in range(28)]
    assert sorted(upstream) == [f"madrid|{d.isoformat()}" for d in feb]


def test_contiguous_days_are_fetched_as_spans() -> None:
    days = [date(2025, 1, d) for d in (1, 2, 3, 7, 9, 10)]
    assert contiguous_spans(days) == [
        (date(2025, 1, 1), date(2025, 1, 3)),
        (date(2025, 1, 7), date(2025, 1, 7)),
        (date(2025, 1, 9), date(2025, 1, 10)),
    ]


def test_a_backfilled_past_day_rolls_its_month_up_by_automation(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    """`eager()` would consider only the latest month; a backfill of an old one must roll up too."""
    assets = dg.Definitions(
        assets=[weather_observations, weather_monthly], resources={**resources, "weather_source": SYNTHETIC}
    )
    first = dg.evaluate_automation_conditions(defs=assets, instance=instance)
    assert first.total_requested == 0  # nothing observed, nothing to roll up
    instance.report_runless_asset_event(
        dg.AssetMaterialization(WEATHER_OBSERVATIONS.asset_key, partition="london|2025-02-03")
    )
    after = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=first.cursor)
    assert after.get_requested_partitions(WEATHER_MONTHLY.asset_key) == {"london|2025-02-01"}
    again = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=after.cursor)
    assert again.total_requested == 0  # handled: not requested twice
