"""The benchmark's load generator: response parsing, request encoding, percentiles, and both
loops against a server that splits its answers across writes."""

from __future__ import annotations

import asyncio

import pytest

from bench.loadgen import Job, closed_loop, encode_request, open_loop, parse_head, percentile


def test_a_complete_head_gives_status_length_and_where_the_body_begins() -> None:
    raw = b'HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'
    assert parse_head(raw) == (201, 7, raw.index(b"{"))


def test_an_incomplete_head_is_not_parsed_yet() -> None:
    assert parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n") is None


def test_header_names_are_case_insensitive_and_a_204_has_no_body() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nCONTENT-LENGTH:  12 \r\n\r\n")
    assert head is not None and head[:2] == (200, 12)
    raw = b"HTTP/1.1 204 No Content\r\nserver: x\r\n\r\n"
    assert parse_head(raw) == (204, 0, len(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nserver: x\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n",
    ],
)
def test_a_body_it_cannot_delimit_or_a_non_http_answer_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_head(raw)


def test_a_request_names_host_path_query_headers_and_body_length() -> None:
    raw = encode_request(
        "POST", "http://127.0.0.1:8001/v1/dossiers?x=1", b'{"a":1}', {"Authorization": "Bearer t"}
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"POST /v1/dossiers?x=1 HTTP/1.1",
        b"Host: 127.0.0.1:8001",
        b"Authorization: Bearer t",
        b"Content-Length: 7",
    ]
    assert body == b'{"a":1}'


def test_a_post_without_body_says_so_and_a_get_says_nothing() -> None:
    assert b"Content-Length: 0\r\n" in encode_request("POST", "http://h:1/r")
    assert b"Content-Length" not in encode_request("GET", "http://h:1/r")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 100.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


async def _split_server() -> tuple[asyncio.Server, int, list[bytes]]:
    """Answers each request with its number as body, head and body in separate writes."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            seen.append(body)
            answer = str(len(seen)).encode()
            writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: %d\r\n" % len(answer))
            await writer.drain()
            writer.write(b"\r\n" + answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def _job(port: int, n: int, **kw: object) -> Job:
    url = f"http://127.0.0.1:{port}"
    requests = [encode_request("POST", f"{url}/x", b"%d" % i) for i in range(n)]
    return Job(url, requests, keep_bodies=True, pin=False, **kw)  # type: ignore[arg-type]


async def test_the_closed_loop_sends_every_request_once_and_reads_every_split_answer() -> None:
    server, port, seen = await _split_server()
    async with server:
        result = await closed_loop(_job(port, 50, mode="closed", connections=3, duration=30))
    assert result.errors == 0
    assert sorted(result.index) == list(range(50))
    assert sorted(seen) == sorted(b"%d" % i for i in range(50))
    assert result.status == [201] * 50
    assert sorted(int(b) for b in result.bodies) == list(range(1, 51))
    assert len(result.latency) == len(result.sent_at) == 50


async def test_the_open_loop_keeps_its_schedule_and_answers_every_request() -> None:
    server, port, seen = await _split_server()
    async with server:
        result = await open_loop(_job(port, 40, mode="open", connections=16, rate=200))
    assert result.errors == 0 and result.dropped == 0
    assert len(seen) == 40 and sorted(result.index) == list(range(40))
    # 40 requests at 200/s are spread over 0.2 s, not sent all at once (a loaded machine may
    # start the first late, never the last early).
    assert 0.19 <= result.elapsed < 10
    assert max(result.sent_at) - min(result.sent_at) >= 0.1
