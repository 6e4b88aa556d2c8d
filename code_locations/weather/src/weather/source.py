"""Where observations come from: the Open-Meteo archive API, or a deterministic synthetic twin.

Both produce the archive API's JSON payload, so one parser turns either into rows and the offline
source exercises exactly the code path the real one does.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args

import dagster as dg
import pyarrow as pa
from pydantic import Field

from weather.cities import CITIES, City
from weather.tables import WEATHER_OBSERVATIONS

HOURLY_VARIABLES = ("temperature_2m", "relative_humidity_2m", "precipitation", "wind_speed_10m")
COLUMN_OF_VARIABLE = {
    "temperature_2m": "temperature_c",
    "relative_humidity_2m": "relative_humidity_pct",
    "precipitation": "precipitation_mm",
    "wind_speed_10m": "wind_speed_kmh",
}


SourceKind = Literal["synthetic", "open_meteo"]
KINDS = get_args(SourceKind)


class WeatherSourceError(RuntimeError):
    """The source answered with something that is not an hourly archive payload."""


def _synthetic_day(city: City, day: date) -> dict[str, list[Any]]:
    rng = random.Random(hashlib.sha256(f"{city.name}:{day.isoformat()}".encode()).digest())
    season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.25)
    daily_mean = city.mean_temperature_c + city.seasonal_amplitude_c * season + rng.gauss(0, 2)
    raining = rng.random() < 0.3
    hourly: dict[str, list[Any]] = {"time": [], **{v: [] for v in HOURLY_VARIABLES}}
    for hour in range(24):
        diurnal = 4.0 * math.sin(2 * math.pi * (hour - 9) / 24)
        hourly["time"].append(f"{day.isoformat()}T{hour:02d}:00")
        hourly["temperature_2m"].append(round(daily_mean + diurnal + rng.gauss(0, 0.5), 1))
        hourly["relative_humidity_2m"].append(
            round(min(100.0, max(20.0, 70 - 2 * diurnal + rng.gauss(0, 5))), 0)
        )
        hourly["precipitation"].append(round(rng.expovariate(1.5), 1) if raining else 0.0)
        hourly["wind_speed_10m"].append(round(abs(rng.gauss(12, 6)), 1))
    return hourly


def synthetic_payload(city: City, start: date, end: date) -> dict[str, Any]:
    """The archive payload the synthetic source answers with: the same for the same inputs."""
    hourly: dict[str, list[Any]] = {"time": [], **{v: [] for v in HOURLY_VARIABLES}}
    day = start
    while day <= end:
        for key, values in _synthetic_day(city, day).items():
            hourly[key].extend(values)
        day += timedelta(days=1)
    return {"latitude": city.latitude, "longitude": city.longitude, "timezone": "GMT", "hourly": hourly}


def parse_archive(payload: dict[str, Any], city: str, source: str) -> pa.Table:
    """Rows of `lake.raw.weather_observations` from an archive payload (times are UTC)."""
    hourly = payload.get("hourly")
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise WeatherSourceError(f"{source}: payload for {city} has no 'hourly.time' series")
    missing = [v for v in HOURLY_VARIABLES if v not in hourly]
    if missing:
        raise WeatherSourceError(f"{source}: payload for {city} lacks hourly {missing}")
    times = [datetime.fromisoformat(t).replace(tzinfo=UTC) for t in hourly["time"]]
    columns: dict[str, Any] = {
        "city": [city] * len(times),
        "obs_date": [t.date() for t in times],
        "observed_at": times,
        **{COLUMN_OF_VARIABLE[v]: hourly[v] for v in HOURLY_VARIABLES},
        "source": [source] * len(times),
    }
    return pa.Table.from_pydict(columns, schema=WEATHER_OBSERVATIONS.arrow_schema)


class WeatherSource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Hourly observations for a city and a span of days.

    `kind="open_meteo"` calls the archive API at `base_url` (no key needed); `kind="synthetic"`
    generates the same payload offline, seeded by city and date.
    """

    kind: SourceKind = "synthetic"
    base_url: str = Field(default="https://archive-api.open-meteo.com/v1/archive")
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls) -> WeatherSource:
        """`WHARF_WEATHER_SOURCE=open_meteo` for the real API; synthetic otherwise."""
        kind = os.environ.get("WHARF_WEATHER_SOURCE", "synthetic")
        if kind not in KINDS:
            raise ValueError(f"WHARF_WEATHER_SOURCE={kind!r} is not one of {KINDS}")
        return cls(kind=kind)  # type: ignore[arg-type]

    def payload(self, city: City, start: date, end: date) -> dict[str, Any]:
        if self.kind == "synthetic":
            return synthetic_payload(city, start, end)
        import requests

        params: dict[str, str | float] = {
            "latitude": city.latitude,
            "longitude": city.longitude,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "hourly": ",".join(HOURLY_VARIABLES),
            "timezone": "UTC",
        }
        response = requests.get(self.base_url, params=params, timeout=self.timeout_s)
        if response.status_code != 200:
            raise WeatherSourceError(
                f"{self.base_url} answered {response.status_code} for {city.name} "
                f"{start}..{end}: {response.text[:200]}"
            )
        result: dict[str, Any] = response.json()
        return result

    def observations(self, city: str, start: date, end: date) -> pa.Table:
        """Hourly rows for `city` from `start` to `end`, both days included."""
        if city not in CITIES:
            raise WeatherSourceError(f"unknown city {city!r}; known: {sorted(CITIES)}")
        return parse_archive(self.payload(CITIES[city], start, end), city, self.kind)
