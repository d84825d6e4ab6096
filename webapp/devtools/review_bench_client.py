"""The seek benchmark's websocket client (``python -m webapp.devtools.review_bench_client``), run by
webapp/devtools/review_bench.py in its own process. No Django here: autobahn's asyncio client cannot share
a process with daphne's app, which has already chosen autobahn's Twisted flavour.

Seeks to random frames as the viewer does (per source, one request from frame f on with the
prefetch window behind it, superseding the previous seek's requests) and prints one JSON line:
``{"timings_ms": [...], "jpeg_bytes": [...]}``, a timing per seek from sending the requests to
receiving frame f of both sources. The session cookie comes in ``BENCH_SESSION``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time

WARM_UP_SEEKS = 5


class FrameClient:
    """Queues what arrives: (True, bytes) for frames, (False, bytes) for text, (None, code) on close."""

    def __init__(self):
        self.messages: asyncio.Queue = asyncio.Queue()
        self.opened = asyncio.Event()

    async def connect(self, port: int, path: str, session: str) -> None:
        from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

        client = self

        class Protocol(WebSocketClientProtocol):
            def onOpen(self):
                client.opened.set()

            def onMessage(self, payload, isBinary):
                client.messages.put_nowait((isBinary, payload))

            def onClose(self, wasClean, code, reason):
                client.messages.put_nowait((None, code))

        factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}{path}", origin=f"http://127.0.0.1:{port}",
                                         headers={"Cookie": f"sessionid={session}"})
        factory.protocol = Protocol
        _, self.protocol = await asyncio.get_running_loop().create_connection(factory, "127.0.0.1", port)
        await asyncio.wait_for(self.opened.wait(), timeout=20)

    def send(self, message: dict) -> None:
        self.protocol.sendMessage(json.dumps(message).encode(), isBinary=False)


async def seek_run(*, port: int, shot: int, frames: int, height: int, seeks: int, seed: int, prefetch: int,
                   session: str) -> dict:
    client = FrameClient()
    await client.connect(port, f"/ws/shots/{shot}/frames/", session)
    rng = random.Random(seed)
    timings, sizes, request = [], [], 0
    for index in range(seeks + WARM_UP_SEEKS):
        frame = rng.randrange(frames)
        waiting = set()
        started = time.perf_counter()
        for source in ("original", "v1"):
            request += 1
            waiting.add(request)
            client.send({"type": "frames", "request": request, "source": source, "start": frame,
                         "count": min(prefetch, frames - frame), "height": height})
        while waiting:
            is_binary, payload = await asyncio.wait_for(client.messages.get(), timeout=30)
            if is_binary is None:
                raise RuntimeError(f"the frame socket closed with code {payload}")
            if not is_binary:
                message = json.loads(payload)
                if message.get("type") == "error":
                    raise RuntimeError(f"the server refused a request: {message}")
                continue
            length = int.from_bytes(payload[:4], "big")
            header = json.loads(payload[4:4 + length])
            if header["request"] in waiting and header["frame"] == frame:
                waiting.discard(header["request"])
                sizes.append(len(payload) - 4 - length)
        if index >= WARM_UP_SEEKS:
            timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)  # a reviewer's next click comes later; the prefetch goes on meanwhile
    client.protocol.sendClose()
    return {"timings_ms": timings, "jpeg_bytes": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("port", "shot", "frames", "height", "seeks", "seed", "prefetch"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    result = asyncio.run(seek_run(session=os.environ["BENCH_SESSION"], **vars(args)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
