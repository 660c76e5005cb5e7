"""The webhook sink: a minimal asyncio HTTP/1.1 server on 127.0.0.1 that records every request.

Run as its own process (`python -m bench.sink PORT`) so it never shares a GIL with a sender.
Each request is answered `200` with an empty body as soon as its body is complete; the
record kept is (arrival, webhook-id, raw body), parsed only when dumped. Control is a line
protocol on stdin/stdout: `dump PATH` (write JSON lines, reply `ok N`), `reset`, `stats`
(reply JSON: requests, connections, CPU seconds used by this process), `quit`.

The parser handles what `requests`/urllib3 send (Content-Length bodies, keep-alive,
pipelining); a chunked body is answered 400 and counted as `bad`.
"""
import asyncio
import json
import os
import sys
import threading
import time

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Recorder:
    """Shared state of the sink: the records and counters (appended from the event loop only)."""

    def __init__(self):
        self.records = []
        self.connections = 0
        self.bad = 0
        # Wall time = monotonic + offset, fixed once, so a clock step mid-run cannot bend lateness.
        self.offset = time.time() - time.monotonic()

    def reset(self):
        self.records = []
        self.connections = 0
        self.bad = 0


class SinkProtocol(asyncio.Protocol):
    """One keep-alive connection: parse requests out of the byte stream and answer each at once."""

    __slots__ = ("recorder", "transport", "buf")

    def __init__(self, recorder):
        self.recorder = recorder
        self.transport = None
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport
        self.recorder.connections += 1

    def data_received(self, data):
        now = time.monotonic()
        buf = self.buf + data if self.buf else data
        records = self.recorder.records
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end].lower()
            length = 0
            pos = head.find(b"\r\ncontent-length:")
            if pos >= 0:
                stop = head.find(b"\r\n", pos + 2)
                length = int(head[pos + 17: stop if stop >= 0 else None])
            elif b"\r\ntransfer-encoding:" in head:
                self.recorder.bad += 1
                self.transport.write(BAD)
                self.transport.close()
                self.buf = b""
                return
            total = end + 4 + length
            if len(buf) < total:
                break
            hook_id = b""
            pos = head.find(b"\r\nwebhook-id:")
            if pos >= 0:
                stop = head.find(b"\r\n", pos + 2)
                # The value as sent (case kept): slice the original bytes, not the lowered copy.
                hook_id = buf[pos + 13: stop if stop >= 0 else end].strip()
            records.append((now, hook_id, buf[end + 4: total]))
            self.transport.write(OK)
            buf = buf[total:]
        self.buf = buf


def cpu_seconds():
    """User+system CPU seconds used by this process so far."""
    times = os.times()
    return times.user + times.system


def decode(recorder, snapshot):
    """The records as dicts: wall time `t`, `id` (webhook-id), `rid` (reminder_id from the body)."""
    rows = []
    for mono, hook_id, body in snapshot:
        rid = None
        try:
            rid = json.loads(body).get("reminder_id")
        except (ValueError, AttributeError):
            pass
        rows.append({"t": mono + recorder.offset, "id": hook_id.decode("latin-1"), "rid": rid})
    return rows


def control(recorder, loop):
    """Serve the stdin line protocol until `quit` or EOF, then stop the loop."""
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "dump":
            snapshot = list(recorder.records)
            rows = decode(recorder, snapshot)
            with open(arg, "w") as out:
                for row in rows:
                    out.write(json.dumps(row) + "\n")
            reply = f"ok {len(rows)}"
        elif command == "reset":
            recorder.reset()
            reply = "ok"
        elif command == "stats":
            reply = json.dumps({"requests": len(recorder.records), "connections": recorder.connections,
                                "bad": recorder.bad, "cpu": cpu_seconds()})
        elif command == "quit":
            break
        else:
            reply = f"error unknown command {command!r}"
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()
    loop.call_soon_threadsafe(loop.stop)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SinkProtocol(recorder), "127.0.0.1", port, backlog=1024, reuse_address=True))
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"listening {bound}\n")
    sys.stdout.flush()
    threading.Thread(target=control, args=(recorder, loop), daemon=True).start()
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
