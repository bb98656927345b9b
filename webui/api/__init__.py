"""The HTTP face: ``create_app``, the bare-ASGI list endpoint, routes, security, OpenAPI."""
