"""Fixtures of the guarantees tests: a database with a notified site, a movement and a commitment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import deconflict
from delivery_receivers import SmtpServer, WebhookReceiver

#: The embassy of the tests: 50 m radius at this point; notified to RUS on 2025-01-01 (Kyiv time).
EMBASSY = {"id": "emb", "name": "Embassy", "kind": "embassy", "owner": "AZE", "lat": 50.45, "lon": 30.52}
#: A convoy route through Kyiv (lat, lon) and its window.
ROUTE = "50.40,30.40; 50.45,30.52; 50.50,30.60"


def on_embassy(
    incident_id: str, when: str = "2025-03-01T12:00", uncertainty_m: float = 0, **extra: object
) -> dict[str, object]:
    """An incident row at the embassy's point."""
    return {"id": incident_id, "time": when, "lat": 50.45, "lon": 30.52, "uncertainty_m": uncertainty_m, **extra}


def far_away(incident_id: str, when: str = "2025-03-01T12:00") -> dict[str, object]:
    """An incident row 10 km from everything."""
    return {"id": incident_id, "time": when, "lat": 50.36, "lon": 30.70, "uncertainty_m": 0}


@pytest.fixture
def protected(db: deconflict.Database) -> deconflict.Database:
    """The test database with the embassy notified to RUS on 2025-01-01."""
    db.sites.create(**EMBASSY)  # type: ignore[arg-type]
    db.notifications.notify(["emb"], to="RUS", at="2025-01-01", id="ntf-emb")
    return db


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
