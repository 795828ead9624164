"""The OpenAPI 3.1 document of heatops' REST API, served at ``/api/openapi.json``.

Every route under ``api/`` is described here, and only those: tests/alarms/test_openapi.py
fails for a route missing from the document or a path of the document that is no route,
and checks real answers of every operation against it. The enums come from the models'
choices, so they cannot drift from what the API sends.
"""

from __future__ import annotations

from django.conf import settings

from .choices import AlarmState, Domain, Severity
from .selectors import MAINTENANCE_FILTERS


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


UNAUTHORISED = {
    "description": "No, a malformed, an unknown or a revoked token; the reason is in `error`.",
    "headers": {
        "WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Token realm="heatops api"'}
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

ALARM = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "site",
        "site_name",
        "title",
        "message",
        "severity",
        "domain",
        "state",
        "value",
        "occurrences",
        "fired_at",
        "acknowledged_by",
        "acknowledged_at",
        "escalation_level",
        "in_maintenance",
        "url",
    ],
    "properties": {
        "id": {"type": "integer"},
        "site": {"type": "string", "description": "The site's slug."},
        "site_name": {"type": "string"},
        "title": {"type": "string"},
        "message": {"type": "string", "description": "What it means and what was found, in words."},
        "severity": {"type": "string", "enum": list(Severity.values)},
        "domain": {"type": "string", "enum": list(Domain.values)},
        "state": {"type": "string", "enum": list(AlarmState.values)},
        "value": {"type": ["number", "null"], "description": "The value that raised it, if it has one."},
        "occurrences": {"type": "integer", "minimum": 1},
        "fired_at": {"type": "string", "format": "date-time"},
        "acknowledged_by": {"type": ["string", "null"], "description": "Username."},
        "acknowledged_at": _NULLABLE_TIME,
        "escalation_level": {"type": "integer", "minimum": 1},
        "in_maintenance": {
            "type": "boolean",
            "description": "Held by a maintenance window: recorded, not paged.",
        },
        "url": {"type": "string", "description": "The alarm's page."},
    },
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "heatops REST API",
            "version": "1",
            "description": "For scripts and chat bots. Every request carries a personal API token (Admin → "
            "Personal API tokens) as `Authorization: Token <token>` or `Authorization: Bearer <token>`, and "
            "sees and changes what its person's roles allow (docs/roles.md).",
        },
        "servers": [{"url": settings.HEATOPS_BASE_URL.rstrip("/") or "/"}],
        "security": [{"token": []}, {"bearer": []}],
        "paths": {
            "/api/alarms/": {
                "get": {
                    "operationId": "listAlarms",
                    "summary": "The alarms the token's person may see, most severe first (at most 500).",
                    "parameters": [
                        {
                            "name": "site",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "A site's slug.",
                        },
                        {
                            "name": "state",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["open", "", *AlarmState.values],
                                "default": "open",
                            },
                            "description": "open (firing, acknowledged or shelved, the default), one state, "
                            "or empty for all.",
                        },
                        {
                            "name": "maintenance",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["", *MAINTENANCE_FILTERS]},
                            "description": "held: only alarms a maintenance window holds; not: only the others.",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The alarms.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["alarms"],
                                        "properties": {
                                            "alarms": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Alarm"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "401": UNAUTHORISED,
                    },
                }
            },
            "/api/alarms/{pk}/ack/": {
                "post": {
                    "operationId": "acknowledgeAlarm",
                    "summary": "Take ownership of an alarm, as the token's person.",
                    "parameters": [
                        {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"note": {"type": "string"}}}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Acknowledged.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["alarm"],
                                        "properties": {"alarm": {"$ref": "#/components/schemas/Alarm"}},
                                    }
                                }
                            },
                        },
                        "400": _error("The body is not a JSON object."),
                        "401": UNAUTHORISED,
                        "403": _error(
                            "The person's role at the alarm's site may read alarms but not change them."
                        ),
                        "404": _error("No alarm of that id that the person may see."),
                        "409": _error("Already acknowledged (by whom, when) or resolved."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapiDocument",
                    "summary": "This document (also with a logged-in session).",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "401": UNAUTHORISED,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <personal API token>`",
                },
                "bearer": {"type": "http", "scheme": "bearer", "description": "The personal API token."},
            },
            "schemas": {
                "Alarm": ALARM,
                "Error": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["error"],
                    "properties": {"error": {"type": "string", "description": "What is wrong, in words."}},
                },
            },
        },
    }
