"""The REST API: shared plumbing (errors, parsing, pagination, strict serializers, film-scoped
viewsets) and the router that mounts every app's ViewSets under /api/. See docs/API.md."""
