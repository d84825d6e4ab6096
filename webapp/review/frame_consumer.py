"""Frames of one shot over a websocket (``ws/shots/<shot_id>/frames/``), for the comparison viewer.

The client asks ``{"type": "frames", "request": id, "source": "original"|"v<N>", "start": f,
"count": n, "height": h}`` and receives one binary message per frame, in order, each sent as soon
as its proxy is read (format in ``frames.frame_message_pack``), then ``{"type": "frames.done"}``.
A newer request for the same source supersedes the one in flight, so scrubbing never queues
hundreds of stale frames; ``{"type": "cancel", "request": id}`` (or without id: everything)
stops prefetching. Bad messages get ``{"type": "error", "code", "detail", "request"}`` and
change nothing. A viewer who loses access to the shot (removed from the film, logged out) is
closed with the final code and its streams stop (``GroupConsumer``: this socket joins no group of
its own, only the user's).
"""

from __future__ import annotations

import asyncio
import json
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from webapp.catalogue.proxies import ProxyError
from webapp.realtime import CLOSE_NOT_FOUND, GroupConsumer, MessageRate
from webapp.review.frames import (
    CancelRequest,
    FrameRequest,
    FrameRequestError,
    FrameSource,
    frame_jpeg,
    frame_message_pack,
    frame_message_parse,
    frame_request_resolve,
    frame_sources,
    shot_for_viewer,
)

log = logging.getLogger(__name__)

class FrameConsumer(GroupConsumer):
    sources: dict[str, FrameSource]
    # One streaming task per source: the request it serves and the task.
    lanes: dict[str, tuple[int, asyncio.Task]]
    errors_name_request = True
    # Scrubbing asks for frames at the pointer's pace (60 moves a second and more), for A and B
    # (a newer request supersedes the one in flight, so they cost little): generous, yet finite.
    rate = MessageRate(per_second=200, burst=400, flood=2000)

    async def admit(self, user) -> int | None:
        self.sources, self.lanes = {}, {}
        sources = await self._sources_for(user, self._shot_id())
        if sources is None:
            return await self.refusal_code(user)
        self.sources = {source.name: source for source in sources}
        return None

    async def recheck_access(self, user) -> int | None:
        return None if await self._sources_for(user, self._shot_id()) is not None else await self.refusal_code(user)

    async def refusal_code(self, user) -> int:
        """The close code for a user who may not see the shot's frames."""
        return CLOSE_NOT_FOUND

    def _shot_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["shot_id"])

    @database_sync_to_async
    def _sources_for(self, user, shot_id: int) -> list[FrameSource] | None:
        shot = shot_for_viewer(user=user, shot_id=shot_id)
        return None if shot is None else frame_sources(shot=shot)

    async def stop_work(self) -> None:
        for _, task in getattr(self, "lanes", {}).values():
            task.cancel()
        self.lanes = {}

    async def receive_message(self, text_data, bytes_data):
        try:
            message = frame_message_parse(text_data)
            if isinstance(message, CancelRequest):
                self._cancel(message.request)
                return
            source, height = frame_request_resolve(sources=self.sources, request=message)
        except FrameRequestError as error:
            await self._send_error(error)
            return
        except ProxyError as error:  # the media has no usable frame size
            await self._send_error(FrameRequestError("unavailable", str(error), getattr(message, "request", None)))
            return
        previous = self.lanes.get(source.name)
        if previous is not None:
            previous[1].cancel()
        task = asyncio.create_task(self._stream(message, source, height))
        self.lanes[source.name] = (message.request, task)

    def _cancel(self, request: int | None) -> None:
        for name, (lane_request, task) in list(self.lanes.items()):
            if request is None or lane_request == request:
                task.cancel()
                del self.lanes[name]

    async def _stream(self, request: FrameRequest, source: FrameSource, height: int) -> None:
        # Proxy reads block (disk, or a decode on a miss): off the event loop, on the shared
        # thread pool rather than Django's single sync thread, so A and B are read in parallel.
        read = sync_to_async(frame_jpeg, thread_sensitive=False)
        try:
            for frame in range(request.start, request.start + request.count):
                jpeg = await read(source=source, frame=frame, height=height)
                await self.send(bytes_data=frame_message_pack(
                    request=request.request, source=source.name, frame=frame, height=height, jpeg=jpeg))
        except (ProxyError, OSError):  # undecodable media, or its file gone from the disk
            # The cause names server paths: it goes to the log, the client gets the fact.
            log.exception("frames of %s (asset %s) cannot be read", source.name, source.asset.pk)
            await self._send_error(FrameRequestError(
                "unavailable", f"Frames of '{source.name}' cannot be read from its media.", request.request))
        else:
            await self.send(text_data=json.dumps(
                {"type": "frames.done", "request": request.request, "source": source.name}))
        finally:
            lane = self.lanes.get(source.name)
            if lane is not None and lane[0] == request.request:
                del self.lanes[source.name]

    async def _send_error(self, error: FrameRequestError) -> None:
        if not self.closing:
            await self.send_error(error)
