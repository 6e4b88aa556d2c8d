"""Every location's Definitions load alone and together, and their asset keys do not collide."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from wharf_infra.core.registry import load_registry, workspace

LOCATIONS = load_registry()


def _defs(module: str) -> dg.Definitions:
    defs: dg.Definitions = importlib.import_module(module).defs
    return defs


# What each location declares besides the shared lineage and automation sensors.
DECLARED = {
    "weather": ({"daily_observations", "weather_nowcast_job_schedule"}, {"weather_freshness"}),
    "bioreactor": (set(), {"bioreactor_landing_sensor"}),
    "analytics": (
        {"nightly_dbt_build_schedule", "table_maintenance_schedule"},
        {"bioreactor_readings_sensor"},
    ),
}
SHARED_SENSORS = {
    "openlineage_run_start",
    "openlineage_run_complete",
    "openlineage_run_fail",
    "default_automation_condition_sensor",
}


def test_every_declared_automation_runs_on_a_fresh_deployment() -> None:
    assert set(DECLARED) == {loc.name for loc in LOCATIONS}
    for location in LOCATIONS:
        repository = _defs(location.module).get_repository_def()
        assert repository.get_all_jobs(), location.name
        schedules, sensors = DECLARED[location.name]
        assert {s.name for s in repository.schedule_defs} == schedules, location.name
        assert {s.name for s in repository.sensor_defs} == sensors | SHARED_SENSORS, location.name
        stopped = [
            s.name for s in repository.schedule_defs if s.default_status != dg.DefaultScheduleStatus.RUNNING
        ]
        stopped += [
            s.name for s in repository.sensor_defs if s.default_status != dg.DefaultSensorStatus.RUNNING
        ]
        assert stopped == [], f"{location.name}: off until someone clicks: {stopped}"


def test_every_job_runs_its_steps_in_the_run_process() -> None:
    """A step subprocess per run would cost its own start-up and memory in every run pod."""
    for location in LOCATIONS:
        for job in _defs(location.module).get_repository_def().get_all_jobs():
            assert job.executor_def.name == dg.in_process_executor.name, f"{location.name}: {job.name}"


def test_locations_together_have_no_duplicate_asset_keys() -> None:
    owned: dict[dg.AssetKey, str] = {}
    for location in LOCATIONS:
        graph = _defs(location.module).resolve_asset_graph()
        for key in graph.materializable_asset_keys | graph.observable_asset_keys:
            assert key not in owned, f"{key} is defined by both {owned[key]} and {location.name}"
            owned[key] = location.name


def test_the_registry_workspace_loads_every_location_in_dagster(tmp_path: Path) -> None:
    """What `make dev` loads: the generated workspace, each location in its own code server."""
    workspace_file = tmp_path / "workspace.yaml"
    workspace_file.write_text(yaml.safe_dump(workspace(LOCATIONS)))
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "WHARF_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [Path(sys.executable).with_name("dagster"), "definitions", "validate", "-w", str(workspace_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for location in LOCATIONS:
        assert f"Validation successful for code location {location.name}" in output, output


def test_analytics_depends_on_the_raw_tables_of_the_other_locations() -> None:
    by_location = {loc.name: _defs(loc.module).resolve_asset_graph() for loc in LOCATIONS}
    analytics = by_location["analytics"]
    external = analytics.get_all_asset_keys() - analytics.materializable_asset_keys
    produced_elsewhere = (
        by_location["weather"].materializable_asset_keys | by_location["bioreactor"].materializable_asset_keys
    )
    assert external == {
        dg.AssetKey(["lake", "raw", "weather_observations"]),
        dg.AssetKey(["lake", "raw", "bioreactor_readings"]),
        dg.AssetKey(["lake", "raw", "bioreactor_control_limits"]),
    }
    assert external <= produced_elsewhere
