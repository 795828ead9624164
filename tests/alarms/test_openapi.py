"""The REST API and its OpenAPI document agree: the document served at /api/openapi.json is
valid OpenAPI 3.1, lists every route under api/ and nothing else, and every documented
answer of every operation is produced by a real request and validated against it
(openapi-core, request and response)."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_spec_validator import validate

from apps.accounts.models import SiteAccess
from apps.accounts.services import personal_token_issue
from apps.alarms import services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from tests.security.test_every_route import routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, demo_sites, django_user_model, settings, now):
    """The document as served, tokens of an estates person and of a manager of the pool,
    and a firing alarm there."""
    settings.HEATOPS_BASE_URL = "http://testserver"  # the test client's host: paths resolve under it
    pool = demo_sites["pool"]
    tokens = {}
    for role in ("estates", "manager"):
        user = django_user_model.objects.create_user(role)
        SiteAccess.objects.create(user=user, site=pool, role=role)
        tokens[role] = {"Authorization": f"Token {personal_token_issue(user=user, name='bot')[1]}"}
    rule = AlarmRule.objects.create(
        site=pool,
        name="Loop hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning="m",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )
    alarm = services.alarm_raise(rule=rule, value=61.5, detail="supply 61.5", now=now)
    served = client.get(reverse("alarms:api_openapi"), headers=tokens["manager"])
    assert served.status_code == 200
    return {"doc": served.json(), "tokens": tokens, "alarm": alarm, "client": client}


def test_the_document_is_valid_openapi_31(api):
    validate(api["doc"])
    assert api["doc"]["openapi"].startswith("3.1")


def _as_openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_api_route_is_in_the_document_and_every_documented_path_is_a_route(api):
    api_routes = {_as_openapi_path(r.route) for r in routes() if r.route.startswith("api/")}
    assert api_routes == set(api["doc"]["paths"])


def test_every_documented_answer_of_every_operation_is_what_the_api_sends(api):
    client, tokens, alarm = api["client"], api["tokens"], api["alarm"]
    spec = OpenAPI.from_dict(api["doc"])
    ack = reverse("alarms:api_alarm_ack", args=[alarm.pk])
    calls = [  # (path, method, status): a request that answers it
        (
            "/api/alarms/",
            "get",
            200,
            lambda: client.get("/api/alarms/?state=open&site=pool", headers=tokens["manager"]),
        ),
        (
            "/api/alarms/",
            "get",
            401,
            lambda: client.get("/api/alarms/", headers={"Authorization": "Token hops_nope"}),
        ),
        ("/api/openapi.json", "get", 200, lambda: client.get("/api/openapi.json", headers=tokens["estates"])),
        ("/api/openapi.json", "get", 401, lambda: client.get("/api/openapi.json")),
        ("/api/alarms/{pk}/ack/", "post", 403, lambda: _post(client, ack, {"note": "x"}, tokens["manager"])),
        ("/api/alarms/{pk}/ack/", "post", 400, lambda: _post(client, ack, "[1, 2]", tokens["estates"])),
        (
            "/api/alarms/{pk}/ack/",
            "post",
            200,
            lambda: _post(client, ack, {"note": "on it"}, tokens["estates"]),
        ),
        ("/api/alarms/{pk}/ack/", "post", 409, lambda: _post(client, ack, {}, tokens["estates"])),
        (
            "/api/alarms/{pk}/ack/",
            "post",
            404,
            lambda: _post(client, "/api/alarms/999999/ack/", {}, tokens["estates"]),
        ),
        ("/api/alarms/{pk}/ack/", "post", 401, lambda: _post(client, ack, {}, {})),
    ]
    documented = {
        (path, method, int(status))
        for path, item in api["doc"]["paths"].items()
        for method, op in item.items()
        for status in op["responses"]
    }
    assert {(p, m, s) for p, m, s, _ in calls} == documented, "a documented answer without its request"
    for path, method, status, call in calls:
        response = call()
        assert response.status_code == status, (path, method, status, response.content[:200])
        request = DjangoOpenAPIRequest(response.wsgi_request)
        if status == 400:  # the document refuses the body the API refused
            with pytest.raises(OpenAPIError):
                spec.validate_request(request)
        elif status != 401:  # a 401's credentials are wrong, whatever the document can tell
            spec.validate_request(request)
        spec.validate_response(request, DjangoOpenAPIResponse(response))
    listed = client.get("/api/alarms/?state=", headers=tokens["manager"]).json()["alarms"]
    assert [a["acknowledged_by"] for a in listed] == ["estates"]  # the listing was not vacuous


def _post(client, url, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)
