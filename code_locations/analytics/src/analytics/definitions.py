"""The analytics code location."""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from analytics.assets import wharf_dbt_models
from analytics.automation import bioreactor_models_job, bioreactor_readings_sensor, nightly_dbt_build
from analytics.maintenance import table_maintenance, weekly_table_maintenance
from analytics.project import wharf_dbt
from wharf_shared.definitions import location_definitions

# dbt is installed beside this interpreter; find it there even when its folder is not on PATH.
_beside_python = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_beside_python) if _beside_python.exists() else shutil.which("dbt") or "dbt"

defs = location_definitions(
    assets=[wharf_dbt_models],
    jobs=[bioreactor_models_job, table_maintenance],
    schedules=[nightly_dbt_build, weekly_table_maintenance],
    sensors=[bioreactor_readings_sensor],
    resources={"dbt": DbtCliResource(project_dir=wharf_dbt, dbt_executable=DBT_EXECUTABLE)},
)
