import pytest

from deconflict.errors import InvalidInput
from deconflict.model import DEFAULT_RADIUS_M, Incident, Notification, Site, check_owner
from deconflict.times import parse_time


def site(**changes):
    fields = dict(id="s1", name="Embassy", kind="embassy", owner="AZE", lat=50.4, lon=30.5)
    fields.update(changes)
    return Site(**fields)


def test_site_gets_the_default_radius_of_its_kind():
    assert site(kind="hospital").radius_m == DEFAULT_RADIUS_M["hospital"]
    assert site(radius_m=75).radius_m == 75


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lat": 91}, "lat"),
        ({"lon": -181}, "lon"),
        ({"lat": float("nan")}, "lat"),
        ({"owner": "XYZ1"}, "owner"),
        ({"owner": "ABC"}, "owner"),
        ({"kind": "bunker"}, "kind"),
        ({"radius_m": 0}, "radius_m"),
        ({"id": "has space"}, "id"),
        ({"name": " "}, "name"),
        ({"names": (("english", "x"),)}, "language"),
        ({"footprint_wkt": "POINT (1 2)"}, "footprint"),
    ],
)
def test_invalid_site_fields_are_refused_naming_the_field(changes, message):
    with pytest.raises(InvalidInput, match=message):
        site(**changes)


def test_owner_accepts_lower_case_and_user_assigned_codes():
    assert check_owner("aze") == "AZE"
    assert check_owner("XEU") == "XEU"


def test_discounted_and_unverified_incidents_do_not_count():
    span = parse_time("2025-11-14")
    base = dict(id="i", time=span, lat=50, lon=30)
    assert Incident(**base).counted
    assert not Incident(**base, confidence="discounted").counted
    assert not Incident(**base, status="unverified").counted


def test_incident_refuses_negative_uncertainty():
    with pytest.raises(InvalidInput, match="uncertainty_m"):
        Incident(id="i", time=parse_time("2025-11-14"), lat=50, lon=30, uncertainty_m=-1)


def test_notification_needs_sites_and_a_valid_recipient():
    span = parse_time("2025-10-01")
    with pytest.raises(InvalidInput, match="at least one site"):
        Notification(id="n", site_ids=(), recipient="RUS", notified_at=span)
    with pytest.raises(InvalidInput, match="recipient"):
        Notification(id="n", site_ids=("s1",), recipient="Russia", notified_at=span)


def test_notification_refuses_a_site_named_twice():
    with pytest.raises(InvalidInput, match="named twice"):
        Notification(id="n", site_ids=("s1", "s1"), recipient="RUS", notified_at=parse_time("2025-10-01"))
