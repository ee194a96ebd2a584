"""The JSON API for desks, boards and other systems, described in OpenAPI (/api/openapi.json)."""
