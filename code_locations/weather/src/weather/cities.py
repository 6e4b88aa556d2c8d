"""The cities wharf observes: a static partition dimension, with the coordinates the API needs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    mean_temperature_c: float  # yearly mean, shapes the synthetic source
    seasonal_amplitude_c: float


CITIES: dict[str, City] = {
    city.name: city
    for city in (
        City("london", 51.5072, -0.1276, 11.5, 6.5),
        City("berlin", 52.5200, 13.4050, 10.0, 9.5),
        City("madrid", 40.4168, -3.7038, 15.0, 9.0),
    )
}
