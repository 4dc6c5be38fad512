"""A schemathesis check for the error contract of the Gatehouse API (loaded by run.sh)."""

import schemathesis


@schemathesis.check
def error_bodies_are_json_4xx(ctx, response, case):
    """Every error is a 4xx with a JSON body of exactly `error`, `message` and `details`: a
    non-empty code and message, and an object of the case's values."""
    if response.status_code < 400:
        return None
    assert response.status_code < 500, f"server error {response.status_code}"
    try:
        body = response.json()
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        raise AssertionError(f"error body is not JSON: {response.text[:200]!r}") from e
    assert isinstance(body, dict) and sorted(body) == ["details", "error", "message"], (
        f"error body is not {{error, message, details}}: {body!r}"
    )
    assert body["error"] and body["message"], f"empty error code or message: {body!r}"
    assert isinstance(body["details"], dict), f"details is not an object: {body!r}"
    return None
