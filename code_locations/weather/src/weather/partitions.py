"""Partitions of the weather assets: day × city, hour, and month × city."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import dagster as dg

from weather.cities import CITIES

START_DATE = "2025-01-01"

cities = dg.StaticPartitionsDefinition(sorted(CITIES))
daily_by_city = dg.MultiPartitionsDefinition(
    {"date": dg.DailyPartitionsDefinition(start_date=START_DATE), "city": cities}
)
hourly = dg.HourlyPartitionsDefinition(start_date=f"{START_DATE}-00:00")
monthly_by_city = dg.MultiPartitionsDefinition(
    {"month": dg.MonthlyPartitionsDefinition(start_date=START_DATE), "city": cities}
)

# A month of one city is built from that city's days of that month.
daily_to_monthly = dg.MultiPartitionMapping(
    {
        "date": dg.DimensionPartitionMapping("month", dg.TimeWindowPartitionMapping()),
        "city": dg.DimensionPartitionMapping("city", dg.IdentityPartitionMapping()),
    }
)


def dates_by_city(
    keys: Iterable[str], partitions_def: dg.MultiPartitionsDefinition, dimension: str = "date"
) -> dict[str, list[date]]:
    """Group multi-partition keys (`"2025-01-01|london"`) into each city's sorted days."""
    grouped: dict[str, set[date]] = defaultdict(set)
    for key in keys:
        by_dimension = partitions_def.get_partition_key_from_str(key).keys_by_dimension
        grouped[by_dimension["city"]].add(date.fromisoformat(by_dimension[dimension][:10]))
    return {city: sorted(days) for city, days in sorted(grouped.items())}


def contiguous_spans(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as inclusive (first, last) spans, so the source is asked once per span."""
    spans: list[tuple[date, date]] = []
    for day in days:
        if spans and (day - spans[-1][1]).days == 1:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans
