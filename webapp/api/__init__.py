"""The REST API: shared plumbing (errors, parsing, pagination, strict serializers, the OpenAPI
generator) and idempotency keys for the writes clients retry (``idempotency.py``, with its model
and services: the only rows this app stores). The router that mounts every app's ViewSets under
/api/ is ``webapp/config/api_urls.py``. See docs/API.md."""
