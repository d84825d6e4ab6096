"""``GET /api/shots/<id>/thumbnail.jpg`` (and ``filmstrip.jpg``), the same under ``/api/versions/``:
the small pictures of a shot (from its original scan) or a version (from its media), for the
film page and the review pages. Media files are not served publicly: these answer members only
(the selectors start from the user's films, so another film's shot is a 404)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from webapp.catalogue.previews import filmstrip_jpeg, thumbnail_jpeg
from webapp.catalogue.proxies import ProxyError
from webapp.catalogue.selectors import shot_list, version_list

PREVIEWS = {"thumbnail": thumbnail_jpeg, "filmstrip": filmstrip_jpeg}


class PreviewView(APIView):
    model: str = "shot"

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=sorted(PREVIEWS))],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int, kind: str):
        """A small JPEG: the middle frame (``thumbnail``) or frames side by side (``filmstrip``)."""
        render = PREVIEWS.get(kind)
        if render is None:
            raise NotFound(f"No preview called {kind!r}; use thumbnail or filmstrip.")
        asset, start, end = self._span(request, pk)
        try:
            image = render(asset=asset, start=start, end=end)
        except ProxyError as exc:
            raise NotFound(f"No preview: {exc}") from None
        response = HttpResponse(image, content_type="image/jpeg")
        # The pictures of an id never change (a version's media is fixed; a shot's frames too).
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _span(self, request, pk: int):
        if self.model == "shot":
            shot = shot_list(user=request.user).select_related("source").filter(pk=pk).first()
            if shot is None or shot.source is None:
                raise NotFound("No such shot, or it has no source scan.")
            return shot.source, shot.start_frame, shot.end_frame + 1
        version = version_list(user=request.user).select_related("media").filter(pk=pk).first()
        if version is None or version.media is None or not version.media.frame_count:
            raise NotFound("No such version, or it has no media.")
        return version.media, 0, version.media.frame_count
