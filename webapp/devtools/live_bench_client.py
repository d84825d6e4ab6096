"""The session fan-out benchmark's websocket clients (``python -m webapp.devtools.live_bench_client``), run
by webapp/devtools/live_bench.py in their own process (no Django here, for the reason given in
webapp/devtools/review_bench_client.py, whose client this reuses).

Connects the host and ``--participants`` followers to one session, then the host sends
``--changes`` state changes ``--interval-ms`` apart. Each change has the next state version, so
each follower's arrival time of that version minus the host's send time is that follower's lag.
Prints one JSON line: ``{"lags_ms": [...]}``, one entry per (follower, change). Session cookies
(host first) come as a JSON list in ``BENCH_SESSIONS``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from webapp.devtools.review_bench_client import FrameClient

WARM_UP_CHANGES = 5
SETTLE_S = 1.0  # joins announce presence to everyone: let that storm pass before timing


async def _follow(client: FrameClient, arrivals: dict[int, float], last_version: int) -> None:
    while True:
        is_binary, payload = await client.messages.get()
        if is_binary is None:
            raise RuntimeError(f"a follower's socket closed with code {payload}")
        message = json.loads(payload)
        if message["type"] == "state":
            version = message["state"]["version"]
            arrivals.setdefault(version, time.perf_counter())
            if version >= last_version:
                return
        elif message["type"] == "error":
            raise RuntimeError(f"the server refused a message: {message}")


async def fan_out_run(*, port: int, session_id: int, participants: int, changes: int, interval_ms: int,
                      frame_count: int, sessions: list[str]) -> dict:
    path = f"/ws/sessions/{session_id}/"
    host = FrameClient()
    await host.connect(port, path, sessions[0])
    followers = [FrameClient() for _ in range(participants)]
    await asyncio.gather(*(f.connect(port, path, cookie) for f, cookie in zip(followers, sessions[1:], strict=False)))
    await asyncio.sleep(SETTLE_S)
    # Everyone's first message is the whole state: the version the changes start from.
    first_version = None
    for client in (host, *followers):
        while True:
            is_binary, payload = await client.messages.get()
            message = json.loads(payload)
            if message["type"] == "session.state":
                first_version = message["state"]["version"]
                break
        while not client.messages.empty():  # presence updates of the joins
            client.messages.get_nowait()
    total = changes + WARM_UP_CHANGES
    last_version = first_version + total
    arrivals = [dict() for _ in followers]
    watchers = [asyncio.create_task(_follow(f, arrivals[i], last_version)) for i, f in enumerate(followers)]
    sent: dict[int, float] = {}
    for k in range(total):
        version = first_version + k + 1
        sent[version] = time.perf_counter()
        host.send({"type": "state", "changes": {"frame": (k + 1) % frame_count}})
        await asyncio.sleep(interval_ms / 1000)
    await asyncio.wait_for(asyncio.gather(*watchers), timeout=60)
    lags = [(arrived[version] - sent[version]) * 1000 for arrived in arrivals
            for version in range(first_version + WARM_UP_CHANGES + 1, last_version + 1)]
    for client in (host, *followers):
        client.protocol.sendClose()
    return {"lags_ms": lags}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("port", "session-id", "participants", "changes", "interval-ms", "frame-count"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    result = asyncio.run(fan_out_run(sessions=json.loads(os.environ["BENCH_SESSIONS"]), **{
        key.replace("-", "_"): value for key, value in vars(args).items()}))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
