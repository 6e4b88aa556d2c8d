"""analytics: the dbt project parses offline, maps onto the lake, and is scheduled as intended."""

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from analytics.assets import wharf_dbt_models
from analytics.automation import bioreactor_models_job, bioreactor_readings_sensor, nightly_dbt_build
from analytics.definitions import defs as analytics_defs
from analytics.maintenance import table_maintenance, weekly_table_maintenance
from analytics.project import PROJECT_DIR
from wharf_shared.environment import EXCLUSIVE_RUN_TAG

MODELS = {
    "stg_weather",
    "stg_bioreactor",
    "int_bioreactor_downsample_5m",
    "dim_batch",
    "fact_bioreactor_batch_stats",
    "daily_weather_summary",
    "mart_bioreactor_overview",
}


def _models_of(job_name: str) -> set[str]:
    job = analytics_defs.resolve_job_def(job_name)
    return {key.path[-1] for key in job.asset_layer.selected_asset_keys}


def test_dbt_parse_succeeds_offline(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [dbt, "parse", "--profiles-dir", ".", "--no-partial-parse"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(models) == MODELS
    marts = {name for name, node in models.items() if node["database"] == "marts"}
    assert marts == {
        "dim_batch",
        "fact_bioreactor_batch_stats",
        "daily_weather_summary",
        "mart_bioreactor_overview",
    }
    incremental = {name for name, node in models.items() if node["config"]["materialized"] == "incremental"}
    assert incremental == {"int_bioreactor_downsample_5m", "fact_bioreactor_batch_stats"}


def test_models_are_keyed_by_their_trino_names() -> None:
    keys = {key.to_user_string() for key in wharf_dbt_models.keys}
    assert "lake/staging/stg_weather" in keys
    assert "lake/intermediate/int_bioreactor_downsample_5m" in keys
    assert "marts/analytics/mart_bioreactor_overview" in keys
    assert len(keys) == len(MODELS)


def test_dbt_tests_surface_as_asset_checks() -> None:
    checks = {(c.asset_key.path[-1], c.name) for c in wharf_dbt_models.check_keys}
    assert ("dim_batch", "unique_dim_batch_batch_id") in checks
    assert any(name.startswith("value_between_stg_weather_temperature_c") for _, name in checks)
    assert len(checks) >= 15


def test_weather_models_follow_upstreams_and_bioreactor_models_wait_for_the_sensor() -> None:
    conditions = {
        key.path[-1]: spec.automation_condition for key, spec in ((s.key, s) for s in wharf_dbt_models.specs)
    }
    assert conditions["stg_weather"] is not None
    assert conditions["daily_weather_summary"] is not None
    assert conditions["mart_bioreactor_overview"] is None
    assert _models_of(bioreactor_models_job.name) == {
        "stg_bioreactor",
        "int_bioreactor_downsample_5m",
        "dim_batch",
        "fact_bioreactor_batch_stats",
        "mart_bioreactor_overview",
    }


def test_nightly_build_runs_every_model_at_two_in_london() -> None:
    assert nightly_dbt_build.cron_schedule == "0 2 * * *"
    assert nightly_dbt_build.execution_timezone == "Europe/London"
    tick = datetime(2025, 7, 1, 2, 0, tzinfo=ZoneInfo("Europe/London"))
    result = nightly_dbt_build.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))
    assert len(result.run_requests or []) == 1
    assert _models_of(nightly_dbt_build.job_name) == MODELS


def test_asset_sensor_fires_on_a_bioreactor_materialization(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=dg.AssetKey(["lake", "raw", "bioreactor_readings"]), partition="B-1"
            )
        )
        context = dg.build_sensor_context(instance=instance, definitions=analytics_defs)
        result = bioreactor_readings_sensor.evaluate_tick(context)
        assert len(result.run_requests or []) == 1
        assert (result.run_requests or [])[0].tags["wharf/trigger_batch"] == "B-1"
        quiet = bioreactor_readings_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=analytics_defs, cursor=result.cursor)
        )
        assert not quiet.run_requests


def test_a_batch_landing_while_a_models_run_waits_joins_that_run(tmp_path: Path) -> None:
    """A burst of batches queues one models run, not one per batch; once none waits, the next fires."""
    readings = dg.AssetKey(["lake", "raw", "bioreactor_readings"])
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        waiting = dg.DagsterRun(job_name=bioreactor_models_job.name, status=dg.DagsterRunStatus.NOT_STARTED)
        instance.add_run(waiting)
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=readings, partition="B-2"))
        joined = bioreactor_readings_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=analytics_defs)
        )
        assert not joined.run_requests and "B-2" in (joined.skip_message or "")

        instance.report_run_canceled(waiting)
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=readings, partition="B-3"))
        fired = bioreactor_readings_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=analytics_defs, cursor=joined.cursor)
        )
        assert [r.tags["wharf/trigger_batch"] for r in fired.run_requests or []] == ["B-3"]


def test_maintenance_compacts_before_expiring_snapshots() -> None:
    order = [node.name for node in table_maintenance.graph.nodes_in_topological_order]
    assert order == ["list_lake_tables", "compact_tables", "expire_snapshots"]
    assert weekly_table_maintenance.execution_timezone == "Europe/London"


def test_the_models_bounds_are_the_batch_file_contracts() -> None:
    """The dbt tests hold the models to what the contract lets in, so no accepted batch fails them."""
    from datetime import timedelta

    import yaml

    from bioreactor.batch_files import MAX_BATCH_SPAN, max_readings

    variables = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert variables["bioreactor_max_readings_per_5m"] == max_readings(timedelta(minutes=5))
    assert variables["bioreactor_max_readings_per_batch"] == max_readings(MAX_BATCH_SPAN)


def test_process_quality_tests_warn_and_store_their_failures_the_rest_block() -> None:
    """A batch that passed the contract but ran badly is flagged and named, never blocking others."""
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    tests = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    warned = {name for name, node in tests.items() if node["config"]["severity"].lower() == "warn"}
    assert warned == {"bioreactor_logging_gap"}
    assert all(tests[name]["config"]["store_failures"] for name in warned)
    assert (
        tests["bioreactor_logging_gap"]["relation_name"] == '"lake"."data_quality"."bioreactor_logging_gap"'
    )


def test_dbt_builds_never_overlap_on_a_platform() -> None:
    """Both jobs that build the incremental bioreactor models carry the platform's exclusive tag with
    one value, so the run queue holds a second build until the first ends (two overlapping builds
    would both append the same batch)."""
    nightly_tags = nightly_dbt_build.job.tags or {}
    assert (bioreactor_models_job.tags or {})[EXCLUSIVE_RUN_TAG] == nightly_tags[EXCLUSIVE_RUN_TAG]
