"""The served OpenAPI document is valid 3.1, covers the whole contract, and /api/docs shows it."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

# Every method and path that API.md names (its `{id}` placeholders written as `{}`).
API_MD = [
    ("GET", "/healthz"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/events"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/{}"),
    ("PATCH", "/api/v1/events/{}"),
    ("POST", "/api/v1/events/{}/publish"),
    ("POST", "/api/v1/events/{}/cancel"),
    ("POST", "/api/v1/events/{}/sessions"),
    ("POST", "/api/v1/events/{}/cohosts"),
    ("GET", "/api/v1/invitations"),
    ("POST", "/api/v1/invitations/{}/accept"),
    ("POST", "/api/v1/invitations/{}/decline"),
    ("POST", "/api/v1/events/{}/registrations"),
    ("GET", "/api/v1/registrations/{}"),
    ("POST", "/api/v1/registrations/{}/cancel"),
    ("PATCH", "/api/v1/registrations/{}"),
    ("GET", "/api/v1/events/{}/registrations"),
    ("GET", "/api/v1/events/{}/registrations.csv"),
    ("POST", "/api/v1/events/{}/door-tokens"),
    ("POST", "/api/v1/events/{}/checkins"),
    ("POST", "/api/v1/events/{}/checkins/batch"),
    ("GET", "/api/v1/events/{}/checkin-kit"),
    ("GET", "/api/v1/events/{}/stats"),
    ("GET", "/api/v1/events/{}/calendar.ics"),
    ("GET", "/api/v1/registrations/{}/badge.pdf"),
    ("GET", "/api/v1/events/{}/badges.pdf"),
    ("GET", "/api/v1/events/{}/analytics"),
    ("DELETE", "/api/v1/events/{}/sessions/{}"),
    ("POST", "/api/v1/events/{}/unpublish"),
    ("POST", "/api/v1/events/{}/duplicate"),
    ("GET", "/api/v1/events/{}/audit"),
    ("POST", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks/{}"),
    ("DELETE", "/api/v1/webhooks/{}"),
    ("GET", "/api/v1/webhooks/{}/deliveries"),
    ("GET", "/api/v1/registrations/{}/export"),
    ("POST", "/api/v1/registrations/{}/erase"),
    ("POST", "/api/v1/registrations/{}/approve"),
    ("POST", "/api/v1/registrations/{}/reject"),
    ("POST", "/api/v1/events/{}/registrations/decide"),
    ("POST", "/api/v1/events/{}/access-codes"),
    ("GET", "/api/v1/events/{}/access-codes"),
    ("POST", "/api/v1/events/{}/access-codes/{}/revoke"),
    ("POST", "/api/v1/events/{}/guests"),
    ("GET", "/api/v1/events/{}/guests"),
    ("POST", "/api/v1/events/{}/guests/import"),
    ("PATCH", "/api/v1/registrations/{}"),
    ("POST", "/api/v1/events/{}/messages"),
    ("POST", "/api/v1/events/{}/registrations/resend"),
]
# API.md's Additions (contract v1.1) that are not built yet: each leaves this list when its
# endpoint lands (and the two tests below then hold it to the document).
NOT_YET: set[tuple[str, str]] = set()  # every path of contract v1.1 is built
# Served by the app itself rather than declared endpoints: not in the document's paths.
OUTSIDE_THE_DOCUMENT = {("GET", "/healthz"), ("GET", "/api/v1/openapi.json")}
SHARED_API_MD = Path(__file__).resolve().parents[2] / "shared" / "API.md"


def _shape(path: str) -> str:
    return re.sub(r"{[^}]*}", "{}", path)


@pytest.fixture
def spec_offline() -> dict[str, Any]:
    """The document as built from the code (what the served one is: tests/test_schemas.py)."""
    from events.api.openapi import build
    from events.app import endpoints

    return build(endpoints())


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


async def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any error
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


async def test_every_path_of_the_contract_is_documented(spec: dict[str, Any]) -> None:
    documented = {
        (method.upper(), _shape(path)) for path, item in spec["paths"].items() for method in item
    }
    missing = [p for p in API_MD if p not in documented and p not in OUTSIDE_THE_DOCUMENT]
    assert missing == []


def test_the_list_above_matches_api_md() -> None:
    if not SHARED_API_MD.exists():
        pytest.skip("shared/API.md is not beside this checkout")
    text = SHARED_API_MD.read_text()
    named = {
        (method, _shape(path.split("?")[0]))
        for method, path in re.findall(r"`(GET|POST|PATCH|DELETE|PUT) (/[^` ]+)", text)
    }
    assert named <= set(API_MD) | NOT_YET, sorted(named - set(API_MD) - NOT_YET)
    assert not NOT_YET & set(API_MD), "a path listed as built and as not yet built"


async def test_request_bodies_come_from_the_types_that_validate_them(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/api/v1/events"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    event_in = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
    assert event_in["additionalProperties"] is False  # unknown fields are refused
    assert {"title", "timezone", "starts_at", "ends_at", "capacity"} <= set(event_in["required"])
    assert event_in["properties"]["starts_at"]["format"] == "date-time"
    assert "422" in create["responses"] and "201" in create["responses"]
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    params = {p["name"] for p in create["parameters"]}
    assert "Idempotency-Key" in params


async def test_api_docs_page_renders_every_operation(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "/api/v1/openapi.json" in page
    for path, item in spec["paths"].items():
        for method in item:
            assert f"{method.upper()}</span> <code>{path}</code>" in page.replace("&#x27;", "'"), (
                method,
                path,
            )


def _check(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    """The answer matches the schema the document gives for this operation and status."""
    from openapi_schema_validator import OAS31Validator

    documented = spec["paths"][path][method.lower()]["responses"][str(response.status_code)]
    media_type = response.headers["content-type"].split(";")[0]
    schema = documented["content"][media_type]["schema"]
    OAS31Validator({**schema, "components": spec["components"]}).validate(response.json())


async def test_answers_match_the_documented_schemas(
    client: httpx.AsyncClient, spec: dict[str, Any], db: Any
) -> None:
    from tests.conftest import create_event, make_partner

    owner, guest = await make_partner(db), await make_partner(db)
    event = await create_event(client, owner)
    _check(
        spec, "GET", "/api/v1/events/{event_id}", await client.get(f"/api/v1/events/{event['id']}")
    )
    _check(spec, "GET", "/api/v1/events", await client.get("/api/v1/events?limit=3"))
    invite = await client.post(
        f"/api/v1/events/{event['id']}/cohosts", json={"partner": guest.slug}, headers=owner.auth
    )
    _check(spec, "POST", "/api/v1/events/{event_id}/cohosts", invite)
    _check(
        spec,
        "GET",
        "/api/v1/invitations",
        await client.get("/api/v1/invitations", headers=guest.auth),
    )
    _check(spec, "GET", "/api/v1/tokens", await client.get("/api/v1/tokens", headers=owner.auth))
    _check(
        spec,
        "GET",
        "/api/v1/events/{event_id}/cohosts",
        await client.get(f"/api/v1/events/{event['id']}/cohosts", headers=owner.auth),
    )
    refused = await client.post("/api/v1/events", json={"title": 1}, headers=owner.auth)
    _check(spec, "POST", "/api/v1/events", refused)


def _reads(node: ast.AST) -> list[ast.Call]:
    """The `call.query(…)` calls under `node`."""
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "query"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "call"
    ]


def _read_by(function: Any) -> set[str]:
    """The query parameters a handler reads: `call.query("name")`, `call.query(p.name)` in a
    comprehension over one of params.py's tuples, and the same in the module's helpers that
    it hands the call to (`_lang(call)`)."""
    from events.api import params

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    names = {n.args[0].value for n in _reads(tree) if isinstance(n.args[0], ast.Constant)}
    for comp in ast.walk(tree):
        if isinstance(comp, ast.DictComp | ast.ListComp | ast.SetComp | ast.GeneratorExp):
            for gen in comp.generators:
                source = gen.iter
                if (
                    _reads(comp)
                    and isinstance(source, ast.Attribute)
                    and isinstance(source.value, ast.Name)
                    and source.value.id == "params"
                ):
                    names |= {p.name for p in getattr(params, source.attr)}
    module = inspect.getmodule(function)
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and any(isinstance(a, ast.Name) and a.id == "call" for a in n.args)
        ):
            names |= _read_by(getattr(module, n.func.id))
    return names


def test_each_operation_documents_exactly_the_query_parameters_its_handler_reads(
    spec_offline: dict[str, Any],
) -> None:
    from events.app import endpoints

    checked = 0
    for endpoint in endpoints():
        documented = [
            p["name"]
            for p in spec_offline["paths"][endpoint.path][endpoint.method.lower()]["parameters"]
            if p["in"] == "query"
        ]
        assert len(documented) == len(set(documented)), endpoint.path
        read = _read_by(endpoint.handler)
        if endpoint.auth == "attendee":  # ?token= is read where the caller is found
            read.add("token")
        assert set(documented) == read, (endpoint.method, endpoint.path)
        checked += bool(read)
    assert checked >= 20  # the scan found the reads (a broken scan would find none)


def test_handlers_read_the_query_string_only_through_their_declarations() -> None:
    api = Path(__file__).resolve().parents[1] / "events" / "api"
    direct = {
        path.name: path.read_text().count("query_params.get(")
        for path in api.glob("*.py")
        if "query_params.get(" in path.read_text()
    }
    # Call.query (checked against the declaration) and the attendee's ?token=
    assert direct == {"routing.py": 2}


def _as_json(param: Any, raw: str) -> Any:
    """A query value as the JSON value a client's schema describes."""
    if param.schema["type"] == "array":
        return raw.split(",")
    if param.schema["type"] == "integer" and re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    return raw


SAMPLES = [
    "", "0", "1", "50", "500", "501", "-1", "1.5", "+5", " 5", "٣", "abc", "a b", "en",
    "zh-Hant", "fr", "confirmed", "confirmed,waitlisted", "confirmed,", "bogus,confirmed",
    "a6", "label", "true", "1", "yes", "invited", "czI", "czI=", "!!", "x" * 40, "y" * 2001,
    "999999999999999999", "1000000000000000000",
]  # fmt: skip


def test_the_code_takes_exactly_the_values_the_document_allows() -> None:
    """Every declared parameter, on values in and out of its schema: `check` (what the
    handler reads) and the published schema agree."""
    from openapi_schema_validator import OAS31Validator

    from events.api import params
    from events.errors import InvalidInput

    declared = {
        p.name + repr(p.schema): p
        for value in vars(params).values()
        for p in (value if isinstance(value, tuple) else (value,))
        if isinstance(p, params.QueryParam)
    }
    assert len(declared) >= 15
    for param in declared.values():
        if param.schema.get("format") == "date-time":
            continue  # below: the validator here does not check formats
        for raw in SAMPLES:
            allowed = OAS31Validator(param.schema).is_valid(_as_json(param, raw))
            try:
                param.check(raw)
                taken = True
            except InvalidInput as refused:
                assert refused.extra["errors"][0]["field"] == param.name
                taken = False
            assert taken == allowed, (param.name, raw, allowed)


async def test_query_parameters_breaking_their_declaration_are_422s_naming_them(
    client: httpx.AsyncClient, db: Any
) -> None:
    from tests.conftest import assert_problem, create_event, make_partner

    owner = await make_partner(db)
    event = await create_event(client, owner)
    base = f"/api/v1/events/{event['id']}"
    refused = [
        ("/api/v1/events?limit=0", "limit"),
        ("/api/v1/events?limit=%2B5", "limit"),
        ("/api/v1/events?hosted=yes", "hosted"),
        (f"{base}/registrations?status=gone", "status"),
        (f"{base}/registrations.csv?lang=fr", "lang"),
        (f"{base}/registrations.xlsx?lang=", "lang"),
        (f"{base}/audit?since=yesterday", "since"),
        (f"{base}/audit?cursor=%21%21", "cursor"),
        (f"{base}/badges.pdf?status=confirmed,gone", "status"),
        (f"{base}/badges.pdf?after=%C2%B2", "after"),  # "²" is a digit to str.isdigit()
    ]
    for url, name in refused:
        answer = await client.get(url, headers=owner.auth)
        problem = assert_problem(answer, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == [name], url
    taken = [
        "/api/v1/events?limit=500&hosted=true",
        f"{base}/registrations?status=confirmed&q=&limit=1",
        f"{base}/audit?since=2020-01-01T00:00:00%2B08:00&until=2999-01-01T00:00:00Z",
        f"{base}/audit?since=2020-01-01T00:00:00+08:00",  # a "+" not encoded (a space)
    ]
    for url in taken:
        assert (await client.get(url, headers=owner.auth)).status_code == 200, url


def test_operations_answering_304_document_it(spec_offline: dict[str, Any]) -> None:
    kit = spec_offline["paths"]["/api/v1/events/{event_id}/checkin-kit"]["get"]
    assert "304" in kit["responses"]
    assert "If-None-Match" in {p["name"] for p in kit["parameters"] if p["in"] == "header"}
    # handlers that compare an If-None-Match (and so may answer 304) all declare it
    from events.app import endpoints

    for endpoint in endpoints():
        reads_etag = "if-none-match" in inspect.getsource(endpoint.handler)
        assert reads_etag == endpoint.not_modified, endpoint.path
