"""weather: hourly observations per city and day, landed in the lake as Iceberg tables."""
