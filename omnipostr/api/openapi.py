"""The OpenAPI 3.1 description of the REST API, version 1 (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from omnipostr.api.keys import SCOPES
from omnipostr.repurpose import platforms
from omnipostr.repurpose.service import EMOJI_LEVELS

VERSION = "1.0.0"


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def document(base_url: str) -> dict:
    ids = sorted(platforms.PLATFORMS)
    limited = {"RateLimit-Limit": {"schema": {"type": "integer"}}, "RateLimit-Remaining": {"schema": {"type": "integer"}},
               "RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window frees a request."}}
    errors = {
        "401": _problem("No key, or a key that is unknown or revoked."),
        "403": _problem("The plan has no API access, the key lacks the scope, or processing is restricted."),
        "422": _problem("The request is not valid; `field` names what to fix."),
        "429": {**_problem("Over the address's or the key's requests a minute; nothing was done."),
                "headers": {**limited, "Retry-After": {"schema": {"type": "integer"}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OmniPostr API", "version": VERSION,
            "description": "Repurpose an article or script into posts for each platform, and read them back. "
                           "Make a key in Settings → API keys; each key is limited to its plan's requests a minute.",
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "security": [{"key": []}],
        "paths": {
            "/generations": {
                "get": {
                    "summary": "List the workspace's generations, newest first",
                    "security": [{"key": ["generations:read"]}],
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Words to search for."},
                        {"name": "platform", "in": "query", "schema": {"type": "string", "enum": ids}},
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"},
                         "description": "`next_cursor` of the previous page."},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    ],
                    "responses": {"200": {"description": "A page of generations.", "headers": limited,
                                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}},
                                  **errors},
                },
                "post": {
                    "summary": "Start a generation; its posts are written in the background",
                    "security": [{"key": ["generations:write"]}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewGeneration"}}}},
                    "responses": {
                        "202": {"description": "Started; follow `url` until `status` is done or failed.",
                                "headers": {**limited, "Location": {"schema": {"type": "string"}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}},
                        "402": _problem("The plan's generations for this period are used up; `upgrade_url` says where to upgrade."),
                        **errors,
                    },
                },
            },
            "/generations/{id}": {
                "get": {
                    "summary": "A generation with its finished posts and each platform's progress",
                    "security": [{"key": ["generations:read"]}],
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "The generation, in the library export's JSON form plus `progress`.",
                                          "headers": limited, "content": {"application/json": {"schema": {"type": "object"}}}},
                                  "404": _problem("No such generation in the key's workspace."), **errors},
                },
            },
        },
        "components": {
            "securitySchemes": {"key": {"type": "http", "scheme": "bearer", "bearerFormat": "op_…",
                                        "description": "Scopes: " + "; ".join(f"{k}: {v}" for k, v in SCOPES.items())}},
            "schemas": {
                "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}, "field": {"type": "string"}, "upgrade_url": {"type": "string"}}},
                "NewGeneration": {"type": "object", "required": ["text", "platforms"], "additionalProperties": False, "properties": {
                    "text": {"type": "string", "description": "The article or script (Markdown, HTML or plain text)."},
                    "platforms": {"type": "array", "items": {"type": "string", "enum": ids}, "minItems": 1},
                    "title": {"type": "string"}, "tone": {"type": "string"}, "audience": {"type": "string"},
                    "language": {"type": "string"}, "hashtags": {"type": "boolean"},
                    "emoji": {"type": "string", "enum": EMOJI_LEVELS},
                    "call_to_action": {"type": "string"}, "link": {"type": "string"},
                    "brand_voice_id": {"type": "integer"}}},
                "Started": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "title": {"type": "string"}, "status": {"type": "string"},
                    "platforms": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"}}},
                "Page": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "title": {"type": "string"},
                        "platforms": {"type": "array", "items": {"type": "string"}}, "status": {"type": "string"},
                        "engine": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                        "posts": {"type": "integer"}, "url": {"type": "string"}}}},
                    "next_cursor": {"type": ["string", "null"]}}},
            },
        },
    }
