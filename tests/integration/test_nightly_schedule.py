"""The nightly dbt schedule, evaluated for a given night and its run executed on the stack."""

from typing import Any

import dagster as dg
from conftest import GOOD, MINUTES, SPIKED
from pyiceberg.expressions import EqualTo


def test_the_nightly_run_builds_every_model(
    nightly_build: dg.ExecuteInProcessResult, resources: dict[str, Any]
) -> None:
    assert nightly_build.success
    overview = resources["trino"].query(
        "select batch_id, readings from marts.analytics.mart_bioreactor_overview "
        "where batch_id like 'B-IT-%' order by batch_id"
    )
    assert overview == [(batch, MINUTES) for batch in GOOD]
    _excursions_agree_with_the_channel_statistics(resources)
    spiked = resources["trino"].query(
        "select s.temperature_excursions, o.temperature_excursion "
        "from marts.analytics.fact_bioreactor_batch_stats s "
        "join marts.analytics.mart_bioreactor_overview o on o.batch_id = s.batch_id where s.batch_id = ?",
        (SPIKED,),
    )
    assert spiked == [(1, True)], "a one-minute spike is an excursion in the marts"


def _excursions_agree_with_the_channel_statistics(resources: dict[str, Any]) -> None:
    """The marts (SQL over the raw readings) and the channel statistics (Python) count the same."""
    from bioreactor.assets import CHANNEL_GROUPS, channel_stats
    from bioreactor.tables import BIOREACTOR_READINGS

    columns = {
        "temperature_c": "temperature_excursions",
        "ph": "ph_excursions",
        "dissolved_oxygen_pct": "dissolved_oxygen_excursions",
        "agitation_rpm": "agitation_excursions",
    }
    channels = tuple(c for group in CHANNEL_GROUPS.values() for c in group)
    assert set(channels) == set(columns)
    for batch in GOOD:
        (row,) = resources["trino"].query(
            f"select {', '.join(columns.values())} from marts.analytics.fact_bioreactor_batch_stats "
            "where batch_id = ?",
            (batch,),
        )
        readings = resources["iceberg"].read(BIOREACTOR_READINGS, EqualTo("batch_id", batch))
        python = {s["channel"]: s["excursions"] for s in channel_stats(batch, readings, channels)}
        assert dict(zip(columns, row, strict=True)) == python, batch
