"""The API's error shape: every error, whatever raised it, is {"error": {code, message, where, status}}."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.api_helpers import auth

ERROR_STATUSES = {"400", "401", "403", "404", "405", "409", "413", "422", "500", "503"}


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "where", "status"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return error


def test_missing_token_is_401_with_the_error_shape_and_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/sites")
    assert_error(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "token",
    ["nonsense", "dcf_000000000000_" + "A" * 43, "dcf_zz_short"],
    ids=["malformed", "unknown", "bad-id"],
)
def test_bad_tokens_are_401(client: TestClient, token: str) -> None:
    assert_error(client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


def test_a_token_with_a_tampered_secret_is_401(client: TestClient, api_db: object) -> None:
    token = api_db.tokens["admin"]  # type: ignore[attr-defined]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_error(client.get("/api/v1/sites", headers={"Authorization": f"Bearer {tampered}"}), 401, "unauthenticated")


def test_scope_without_the_right_is_403(client: TestClient, api_db: object) -> None:
    assert_error(client.get("/api/v1/sites", headers=auth(api_db.tokens, "public")), 403, "permission_denied")  # type: ignore[attr-defined]


def test_unknown_route_is_404_and_unknown_record_is_404(client: TestClient, api_db: object) -> None:
    headers = auth(api_db.tokens, "admin")  # type: ignore[attr-defined]
    assert_error(client.get("/api/v1/no-such-thing", headers=headers), 404, "not_found")
    error = assert_error(client.get("/api/v1/sites/no-such-site", headers=headers), 404, "not_found")
    assert "no-such-site" in str(error["message"])


def test_wrong_method_is_405(client: TestClient) -> None:
    assert_error(client.delete("/api/v1/log"), 405, "method_not_allowed")


def test_validation_failure_is_422_naming_the_field(client: TestClient, api_db: object) -> None:
    headers = auth(api_db.tokens, "admin")  # type: ignore[attr-defined]
    error = assert_error(
        client.post(
            "/api/v1/sites", headers=headers, json={"name": "x", "kind": "embassy", "owner": "AZE", "lat": 95, "lon": 0}
        ),
        422,
        "invalid_request",
    )
    assert error["where"] == "body.lat"
    assert_error(client.get("/api/v1/sites?limit=0", headers=headers), 422, "invalid_request")


def test_library_invalid_input_is_400(client: TestClient, api_db: object) -> None:
    error = assert_error(
        client.get("/api/v1/sites?near=north&within_m=5", headers=auth(api_db.tokens, "admin")), 400, "invalid_input"
    )  # type: ignore[attr-defined]
    assert error["where"] == "query.near"


def test_duplicate_id_is_409(fresh_client: TestClient, fresh: object) -> None:
    body = {"id": "aze-embassy", "name": "Again", "kind": "embassy", "owner": "AZE", "lat": 50.0, "lon": 30.0}
    assert_error(fresh_client.post("/api/v1/sites", headers=auth(fresh.tokens, "admin"), json=body), 409, "conflict")  # type: ignore[attr-defined]


def test_body_over_the_limit_is_413_by_content_length(fresh_client: TestClient, fresh: object) -> None:
    big = b"id,time,lat,lon\n" + b"x" * (70 * 1024)
    response = fresh_client.post("/api/v1/incidents/import", headers=auth(fresh.tokens, "admin"), content=big)  # type: ignore[attr-defined]
    assert_error(response, 413, "too_large")


def test_chunked_body_over_the_limit_is_413_while_streaming(fresh_client: TestClient, fresh: object) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 8192

    response = fresh_client.post("/api/v1/incidents/import", headers=auth(fresh.tokens, "admin"), content=chunks())  # type: ignore[attr-defined]
    assert_error(response, 413, "too_large")


def test_openapi_declares_the_error_model_for_every_error_status_of_every_operation(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    error_ref = "#/components/schemas/ErrorResponse"
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message", "where", "status"}
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 20
    for path, method, op in operations:
        declared = set(op["responses"])
        assert declared >= ERROR_STATUSES, (method, path, ERROR_STATUSES - declared)
        for status in ERROR_STATUSES:
            content = op["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": error_ref}, (method, path, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/api/v1/log")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
