"""The live API's responses validate against docs/openapi.yaml (and its error shape)."""

import jsonschema
import yaml
from conftest import API_KEY, ROOT, call, upload_clip
from openapi_spec_validator import validate as validate_openapi

SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())


def check(body, schema_name):
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_document_is_valid_openapi():
    """The whole document passes the OpenAPI 3.1 validator (a generator refuses one that does not),
    and no flow-mapping value was cut at a comma into a key of its own."""
    validate_openapi(SPEC)

    def stray_keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None or " " in str(key):
                    yield key
                yield from stray_keys(value)
        elif isinstance(node, list):
            for item in node:
                yield from stray_keys(item)

    assert list(stray_keys(SPEC)) == []


def test_responses_match_the_spec(server):
    created, completed = upload_clip(server, filename="spec.mp4")
    check(created, "CreateAssetResponse")
    check(completed, "Asset")
    status, asset = call("GET", f"{server}/v1/assets/{created['id']}", bearer=created["token"])
    check(asset, "Asset")
    status, page = call("GET", server + "/v1/assets?limit=1")
    check(page, "AssetList")
    # Every event is written to the webhook outbox, whether or not webhook URLs are configured.
    status, deliveries = call("GET", f"{server}/v1/webhook-deliveries?asset_id={created['id']}")
    assert status == 200
    check(deliveries, "WebhookDeliveryList")
    status, ready = call("GET", server + "/readyz", bearer=None)
    check(ready, "Readiness")
    for method, path, body, bearer in [
        ("GET", "/v1/assets", None, None),
        ("POST", "/v1/assets", {"nope": 1}, API_KEY),
        ("GET", "/v1/assets/00000000-0000-0000-0000-000000000000", None, API_KEY),
        ("POST", "/v1/assets", {"filename": "x", "size": 10**13}, API_KEY),
    ]:
        status, error = call(method, server + path, body, bearer=bearer)
        assert status >= 400
        check(error, "Error")
    # Every path the spec names is routed (anything else is ERR_NOT_FOUND from the router).
    assert set(SPEC["paths"]) >= {"/v1/assets", "/v1/assets/{id}", "/v1/assets/{id}/complete", "/v1/assets/{id}/events", "/v1/webhook-deliveries"}
    # Every operation is named.
    operations = [op for path in SPEC["paths"].values() for method, op in path.items() if method in ("get", "put", "post", "delete")]
    operations += [op for hook in SPEC["webhooks"].values() for op in hook.values()]
    assert all(op.get("operationId") for op in operations)
    assert len({op["operationId"] for op in operations}) == len(operations)
