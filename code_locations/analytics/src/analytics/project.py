"""The dbt project this location runs. Its manifest is prepared ahead of time (`make dbt-manifest`,
or the image build), never while the code location loads."""

import os
from pathlib import Path

from dagster_dbt import DbtProject

# In the repository and in the image the dbt project sits four levels above this package.
DEFAULT_PROJECT_DIR = Path(__file__).resolve().parents[4] / "dbt_project"
PROJECT_DIR = Path(os.environ.get("WHARF_DBT_PROJECT_DIR", DEFAULT_PROJECT_DIR))

wharf_dbt = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)

if not wharf_dbt.manifest_path.exists():
    raise FileNotFoundError(
        f"{wharf_dbt.manifest_path} is missing: prepare the dbt manifest first with "
        "`make dbt-manifest` (dbt parse); code locations never parse dbt at load time"
    )
