"""The public REST API, version 1: API keys, their rate limits, and the routes under
``/api/v1`` that call the same services as the pages."""
