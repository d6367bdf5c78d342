"""Read timeouts for uvicorn: a request that does not arrive in time is cut (every server the
kit starts uses them, through `helpers.asgi_thread`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReadTimeouts:
    """How long a client may take to send its request, on every server the kit starts (this
    proxy, the kit server, the class server: `helpers.asgi_thread` takes them from here, as the
    proxy imports nothing of the kit).

    uvicorn has no timeout of its own while a request arrives (its keep-alive timeout counts
    only between requests): a client that never finishes its headers, or trickles its body,
    holds a connection forever (uvicorn issue #157). As Apache's mod_reqtimeout does: the
    request line and headers within `header` seconds of the connection (or of the request's
    first byte on a kept-alive connection); the body within `body` seconds, extended by one
    second per `body_min_rate` bytes received, so any upload faster than that rate never
    times out. Time the server itself holds the body back (its buffer is full, a `100
    Continue` not sent yet) does not count. Beyond: the connection is closed.
    """

    header: float = 20.0
    body: float = 30.0
    body_min_rate: float = 16_384.0


def http_protocol(timeouts: ReadTimeouts | None = None) -> type:
    """uvicorn's h11 protocol with `timeouts` (give it to `uvicorn.Config(http=…)`)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    limits = timeouts or ReadTimeouts()

    class TimedH11Protocol(H11Protocol):
        """`H11Protocol` that closes a connection whose request does not arrive in time."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._waiting = "headers"  # "headers" | "body" | "idle" (keep-alive) | "served"
            self._timer: Any = None
            self._body_since = 0.0
            self._body_bytes = 0

        def _arm(self, when: float) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(when, self._expire)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _await_headers(self) -> None:
            self._waiting = "headers"
            self._arm(self.loop.time() + limits.header)

        def _body_due(self) -> float:
            return self._body_since + limits.body + self._body_bytes / limits.body_min_rate

        def _expire(self) -> None:
            self._timer = None
            if self._waiting == "body":
                held = self.flow is not None and self.flow.read_paused
                cycle = self.cycle
                held = held or (cycle is not None and cycle.waiting_for_100_continue)
                if held:  # the server holds the body back: the client cannot send it
                    self._body_since = self.loop.time() - self._body_bytes / limits.body_min_rate
                due = self._body_due()
                if held or self.loop.time() < due:
                    self._arm(max(due, self.loop.time() + 0.05))
                    return
            if self._waiting in ("headers", "body") and not self.transport.is_closing():
                self.logger.info("closing a connection whose request did not arrive in time")
                self.transport.close()

        def _track(self) -> None:
            """Follow the request's progress (h11's state of the client) after each event."""
            if self.transport is None or self.transport.is_closing():
                self._disarm()
                return
            state = self.conn.their_state
            if state is h11.IDLE:
                if self._waiting not in ("headers", "idle"):
                    self._waiting = "idle"
                    self._disarm()
                if self._waiting == "idle" and self.conn.trailing_data[0]:
                    self._await_headers()  # the next request has begun (pipelined)
            elif state is h11.SEND_BODY:
                if self._waiting != "body":
                    self._waiting = "body"
                    self._body_since, self._body_bytes = self.loop.time(), 0
                    self._arm(self._body_due())
            elif self._waiting in ("headers", "body"):  # the whole request is in
                self._waiting = "served"
                self._disarm()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._await_headers()

        def data_received(self, data: bytes) -> None:
            if self._waiting == "idle":
                self._await_headers()
            elif self._waiting == "body":
                self._body_bytes += len(data)
            super().data_received(data)
            self._track()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._track()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return TimedH11Protocol
