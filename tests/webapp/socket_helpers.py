"""Helpers for websocket tests (channels' ``WebsocketCommunicator``)."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator


async def refused_with(communicator: WebsocketCommunicator) -> int:
    """The close code of a socket the server refuses: accepted, then closed at once with the code
    (never refused in the handshake, which a browser reads as 1006 and retries)."""
    accepted, _ = await communicator.connect()
    assert accepted, "refused in the handshake: the client cannot read a close code"
    output = await communicator.receive_output()
    assert output["type"] == "websocket.close", output
    await communicator.disconnect()
    return output["code"]


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """The close code of an open socket's next output, which must be its closing (skipping
    nothing: a message first fails the test)."""
    output = await communicator.receive_output()
    assert output["type"] == "websocket.close", output
    return output["code"]


async def close_code_after(communicator: WebsocketCommunicator, *, timeout: float = 5) -> int:
    """The code the socket closes with, skipping the messages sent before (presence, events)."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output["code"]
