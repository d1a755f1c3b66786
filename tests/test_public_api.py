"""The public surface is what we intend: explicit __all__, one root exception."""

from __future__ import annotations

import deconflict
from deconflict import errors


def test_public_names_are_exactly_the_intended_ones():
    assert set(deconflict.__all__) == {
        "ConflictError",
        "Database",
        "DeconflictError",
        "ImportResult",
        "Incident",
        "InvalidInput",
        "NotFound",
        "Notification",
        "PermissionDenied",
        "Site",
        "SiteHit",
        "Source",
        "TimeSpan",
        "VerificationError",
        "__version__",
        "init",
        "open",
        "parse_time",
    }
    for name in deconflict.__all__:
        assert hasattr(deconflict, name)


def test_every_error_derives_from_one_root_and_carries_exit_and_http_status():
    leaves = [
        errors.InvalidInput,
        errors.NotFound,
        errors.ConflictError,
        errors.PermissionDenied,
        errors.VerificationError,
    ]
    for cls in leaves:
        assert issubclass(cls, errors.DeconflictError)
    assert errors.VerificationError.exit_code == 1
    assert {cls.exit_code for cls in leaves if cls is not errors.VerificationError} == {2}
    assert [cls.http_status for cls in leaves] == [400, 404, 409, 403, 422]


def test_error_json_shape():
    error = errors.InvalidInput("not a number: 'x'", where="sites.csv, row 3, field 'lat'")
    assert error.to_json() == {
        "error": {
            "code": "invalid_input",
            "message": "not a number: 'x'",
            "where": "sites.csv, row 3, field 'lat'",
            "status": 400,
        }
    }
    assert str(error) == "sites.csv, row 3, field 'lat': not a number: 'x'"
