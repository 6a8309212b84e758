"""A light HTTP/1.1 load generator for loopback benchmarks (asyncio, no dependencies).

Each virtual client holds one keep-alive connection and sends one request at a time; requests
are plain bytes built before the clock starts, responses are parsed just enough (status line,
headers, Content-Length or chunked body). It costs a few tens of microseconds of CPU per
request, so on a 2-core machine it leaves the server and the database nearly all the CPU.

Bounded: every request has a timeout, the whole run a deadline; only loopback hosts.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class LoadError(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with "\n"
    body: bytes
    seconds: float  # from the first byte sent to the last byte received


class _Protocol(asyncio.Protocol):
    """One connection; parses one response at a time into the waiting future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self.closed = False
        self._head: tuple[int, dict[str, str], int] | None = None  # status, headers, body start

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self._head is not None and "content-length" not in self._head[1]:
                status, headers, start = self._head  # body delimited by the close
                self.waiter.set_result((status, headers, bytes(self.buffer[start:])))
            else:
                self.waiter.set_exception(LoadError("connection closed by the server"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._parse()

    def _parse(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        if self._head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            try:
                status = int(lines[0].split(" ", 2)[1])
            except (IndexError, ValueError):
                self.waiter.set_exception(LoadError(f"bad status line {lines[0]!r}"))
                return
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                key = name.strip().lower()
                value = value.strip()
                headers[key] = f"{headers[key]}\n{value}" if key in headers else value
            self._head = (status, headers, end + 4)
        status, headers, start = self._head
        if "content-length" in headers:
            length = int(headers["content-length"])
            if len(self.buffer) - start < length:
                return
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = self._chunked(start)
            if chunks is None:
                return
            body = chunks
        else:
            return  # delimited by the connection closing
        self._head = None
        self.waiter.set_result((status, headers, body))

    def _chunked(self, start: int) -> bytes | None:
        pos, parts = start, []
        while True:
            line_end = self.buffer.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[pos:line_end]).split(b";")[0], 16)
            if size == 0:
                trailer_end = self.buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return None
                del self.buffer[: trailer_end + 4]
                return b"".join(parts)
            if len(self.buffer) < line_end + 2 + size + 2:
                return None
            parts.append(bytes(self.buffer[line_end + 2 : line_end + 2 + size]))
            pos = line_end + 2 + size + 2


class Client:
    """One virtual client: a keep-alive connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int, *, timeout: float) -> None:
        if host not in LOOPBACK:
            raise LoadError(f"只对本机回环地址压测，拒绝 {host}")
        self.host, self.port, self.timeout = host, port, timeout
        self.protocol: _Protocol | None = None
        self.cookies: dict[str, str] = {}
        self.connects = 0

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _transport, protocol = await asyncio.wait_for(
            loop.create_connection(_Protocol, self.host, self.port), self.timeout
        )
        self.connects += 1
        return protocol

    async def send(self, request: bytes) -> Response:
        """Send pre-built request bytes; wait for the whole response."""
        if self.protocol is None or self.protocol.closed:
            self.protocol = await self._connect()
        protocol = self.protocol
        loop = asyncio.get_running_loop()
        waiter = protocol.waiter = loop.create_future()
        # A plain timer rather than asyncio.wait_for: a third of the client's CPU per request.
        timer = loop.call_later(self.timeout, _expire, waiter)
        begin = time.perf_counter()
        assert protocol.transport is not None
        protocol.transport.write(request)
        try:
            status, headers, body = await waiter
        except BaseException:
            self.close()
            raise
        finally:
            timer.cancel()
        seconds = time.perf_counter() - begin
        if headers.get("connection", "").lower() == "close":
            self.close()
        for line in headers.get("set-cookie", "").split("\n"):
            name, sep, rest = line.partition("=")
            if sep:
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Response(status, headers, body, seconds)

    def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()
        self.protocol = None

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no answer within the request timeout"))


def get_request(host: str, path: str, *, cookie: str = "") -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "User-Agent: niangjia-bench"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post_request(
    host: str, path: str, body: bytes, *, content_type: str, cookie: str = "", extra: str = ""
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "User-Agent: niangjia-bench",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def form_body(fields: Sequence[tuple[str, str]]) -> bytes:
    """application/x-www-form-urlencoded, as a browser sends it (UTF-8)."""
    return "&".join(
        f"{quote_from_bytes(k.encode(), safe='')}={quote_from_bytes(v.encode(), safe='')}"
        for k, v in fields
    ).encode()


@dataclass
class Outcome:
    """What one unit of work (one join, one submission) ended with."""

    key: int
    kind: str  # the scenario's classification, e.g. "ok", "already", "error"
    status: int
    seconds: float
    detail: str = ""


@dataclass
class RunResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process (the load generator)
    requests: int = 0
    connects: int = 0
    timed_out: bool = False

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)


Worker = Callable[[Client, int], Awaitable[Outcome]]


async def _run(
    host: str,
    port: int,
    keys: Sequence[int],
    worker: Worker,
    *,
    concurrency: int,
    timeout: float,
    deadline: float,
    prepare: Callable[[Client], Awaitable[None]] | None,
) -> RunResult:
    result = RunResult()
    clients = [Client(host, port, timeout=timeout) for _ in range(concurrency)]
    if prepare is not None:
        await asyncio.gather(*(prepare(c) for c in clients))
    position = 0

    async def drive(client: Client) -> None:
        nonlocal position
        while position < len(keys):
            key = keys[position]
            position += 1
            try:
                outcome = await worker(client, key)
            except (LoadError, OSError, TimeoutError) as exc:
                outcome = Outcome(key, "error", 0, 0.0, f"{type(exc).__name__}: {exc}")
            result.outcomes.append(outcome)

    cpu = time.process_time()
    begin = time.perf_counter()
    tasks = [asyncio.ensure_future(drive(c)) for c in clients]
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    result.seconds = time.perf_counter() - begin
    result.cpu_seconds = time.process_time() - cpu
    for task in pending:
        task.cancel()
    if pending:
        result.timed_out = True
        await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()
    for client in clients:
        result.connects += client.connects
        client.close()
    result.requests = len(result.outcomes)
    return result


def run(
    host: str,
    port: int,
    keys: Sequence[int],
    worker: Worker,
    *,
    concurrency: int,
    timeout: float = 30.0,
    deadline: float = 600.0,
    prepare: Callable[[Client], Awaitable[None]] | None = None,
) -> RunResult:
    """Run ``worker(client, key)`` for every key over ``concurrency`` clients; each client
    takes the next key as soon as it is free. ``prepare`` runs once per client first (not
    timed). Stops at ``deadline`` seconds; unfinished keys are then missing from the result."""
    return asyncio.run(
        _run(
            host,
            port,
            keys,
            worker,
            concurrency=concurrency,
            timeout=timeout,
            deadline=deadline,
            prepare=prepare,
        )
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
