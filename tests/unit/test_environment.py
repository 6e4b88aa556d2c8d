"""The environment contract: one parser for every `WHARF_*` variable."""

import re

import pytest

from wharf_infra.core.paths import DBT_PROJECT_DIR
from wharf_shared.environment import TRINO_PASSWORD, ContractError, PlatformEnvironment

REQUIRED = {"WHARF_ICEBERG_URI": "http://nessie:19120/iceberg", "WHARF_TRINO_HOST": "trino"}


def test_round_trip() -> None:
    contract = PlatformEnvironment(
        iceberg_uri="http://n:1/iceberg", trino_host="t", trino_port=9999, s3_endpoint="http://m:2"
    )
    env = contract.to_env()
    assert env["WHARF_PROFILE"] == "services" and env["WHARF_TRINO_PORT"] == "9999"
    assert PlatformEnvironment.from_env(env) == contract


def test_defaults_and_derived_lineage_namespace() -> None:
    contract = PlatformEnvironment.from_env(REQUIRED)
    assert contract.s3_endpoint == "" and contract.landing_url == "s3://landing"
    assert contract.dataset_namespace == "trino://trino:8080"
    assert contract.lineage_job_namespace == "lakehouse"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_variable_is_named(missing: str) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(ContractError, match=missing):
        PlatformEnvironment.from_env(env)


def test_a_bad_port_is_named() -> None:
    with pytest.raises(ContractError, match="WHARF_TRINO_PORT='eighty'"):
        PlatformEnvironment.from_env({**REQUIRED, "WHARF_TRINO_PORT": "eighty"})


def test_dbt_reads_only_contract_variables() -> None:
    profiles = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    names = set(re.findall(r"env_var\('([A-Z_]+)'", profiles))
    assert names, "profiles.yml reads no variable"
    assert names <= {*PlatformEnvironment.variables(), TRINO_PASSWORD}
