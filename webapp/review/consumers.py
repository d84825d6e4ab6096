"""Live events of one shot (``ws/shots/<shot_id>/``, group ``shot.<id>``) for its review page.

Members of the shot's film receive ``comment.created``, ``comment.updated``, ``decision.recorded``
and ``version.created`` (payloads in ``events.py``). They may also post a comment:

    {"type": "comment.create", "request": "c1", "version": 7, "frame": 12, "text": "...",
     "frame_end": 20, "drawing": [...], "reply_to": 3}

validated exactly as ``POST /api/comments/`` (same serializer and service), plus: the version
must be of this shot. The sender gets ``{"type": "comment.accepted", "request", "comment": id}``
and, like everyone on the shot, the ``comment.created`` event. Anything wrong is answered with
``{"type": "error", "code", "detail", "request"}`` and writes nothing. Access is checked again
for every comment (``can_comment_on_shot``, in the write's transaction); a user who lost it is
closed with 4404 (no longer a member) or 4403 (a guest whose invitation ended).
"""

from __future__ import annotations

from types import SimpleNamespace

from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import as_serializer_error

from webapp.api.exceptions import error_body
from webapp.catalogue.access import can_comment_on_shot
from webapp.catalogue.selectors import shot_list
from webapp.realtime import CLOSE_NOT_FOUND, GroupConsumer, MessageRate, SocketError, json_object_parse, shot_group
from webapp.review import services
from webapp.review.serializers import CommentSerializer

# A drawing at its limits (20,000 points) is about 400 kB of JSON; anything larger is not a comment.
MAX_MESSAGE_BYTES = 512 * 1024
MAX_REQUEST_ID_CHARS = 64


def _request_id(message: dict):
    request = message.get("request")
    if request is None or (isinstance(request, (str, int)) and not isinstance(request, bool)
                           and len(str(request)) <= MAX_REQUEST_ID_CHARS):
        return request
    raise SocketError("malformed", f"request: expected a string or number of at most {MAX_REQUEST_ID_CHARS} characters.")


class ShotConsumer(GroupConsumer):
    relayed = frozenset({"comment.created", "comment.updated", "decision.recorded", "version.created"})
    errors_name_request = True
    # People write comments: a few a second at most (a script that posts hundreds is refused).
    rate = MessageRate(per_second=2, burst=10, flood=50)
    shot_id: int | None = None
    film_id: int | None = None

    async def admit(self, user) -> str | int:
        shot_id = int(self.scope["url_route"]["kwargs"]["shot_id"])
        film_id = await self._film_of_visible_shot(user, shot_id)
        if film_id is None:  # missing, or of a film the user is not a member of: the same answer
            return CLOSE_NOT_FOUND
        self.shot_id, self.film_id = shot_id, film_id
        return shot_group(shot_id)

    async def recheck_access(self, user) -> int | None:
        return None if await self._film_of_visible_shot(user, self.shot_id) is not None else CLOSE_NOT_FOUND

    @database_sync_to_async
    def _film_of_visible_shot(self, user, shot_id: int) -> int | None:
        return shot_list(user=user).filter(pk=shot_id).values_list("film_id", flat=True).first()

    async def receive_message(self, text_data, bytes_data):
        request = None
        try:
            message = json_object_parse(text_data, max_bytes=MAX_MESSAGE_BYTES)
            request = _request_id(message)
            kind = message.get("type")
            if kind != "comment.create":
                raise SocketError("unknown_type", f"Unknown message type {kind!r}; this socket accepts comment.create.")
            comment_id = await self._comment_create(message)
        except SocketError as error:
            error.request = request
            await self.send_error(error)
            if error.code == "forbidden":  # no longer let in at all: closed with the code that says why
                await self.access_lapsed(fresh=True)
            return
        await self.send_json({"type": "comment.accepted", "request": request, "comment": comment_id})

    @database_sync_to_async
    def _comment_create(self, message: dict) -> int:
        user = self.scope["user"]
        # Checked again for every write: a membership (or a guest's invitation) may have ended
        # since the socket opened. The service checks the version itself.
        if not can_comment_on_shot(user=user, film_id=self.film_id, shot_id=self.shot_id):
            raise SocketError("forbidden", "You may no longer comment on this shot.")
        body = {key: value for key, value in message.items() if key not in {"type", "request"}}
        serializer = CommentSerializer(data=body, context={"request": SimpleNamespace(user=user)})
        try:
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            if data["version"].shot_id != self.shot_id:
                raise SocketError("invalid", "version: the version is of another shot than this socket's.",
                                  {"version": ["The version is of another shot."]})
            comment = services.comment_create(
                version=data["version"], author=user, frame=data["frame"], text=data["text"],
                frame_end=data.get("frame_end"), drawing=data.get("drawing"), reply_to=data.get("reply_to"),
            )
        except ValidationError as error:
            body = error_body(error)
            raise SocketError("invalid", body["detail"], body["fields"]) from None
        except DjangoValidationError as error:
            body = error_body(ValidationError(detail=as_serializer_error(error)))
            raise SocketError("invalid", body["detail"], body["fields"]) from None
        except PermissionDenied as error:
            raise SocketError("forbidden", str(error)) from None
        return comment.pk
