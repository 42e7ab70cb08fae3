"""Reading /metrics as Prometheus does: the exposition text, parsed, summed over the
series whose labels include the ones asked for."""

from __future__ import annotations

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families


def scrape(app: Flask) -> str:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of every sample called ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for one in family.samples:
            if one.name == name and all(one.labels.get(k) == v for k, v in labels.items()):
                total += one.value
    return total
