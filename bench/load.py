"""A cheap load generator for the sink alone: `python -m bench.load PORT SECONDS CONNECTIONS`.

Each connection keeps a window of requests in flight (pipelined) for SECONDS, then the
process prints {"sent": n, "seconds": s}. It shows how many requests per second the sink
can answer, to compare with what the senders under test reach.
"""
import asyncio
import json
import sys
import time

BODY = json.dumps({"message": "load", "reminder_id": 0, "scheduled_for": "2030-01-01T00:00:00Z",
                   "occurrence_id": "load", "attempt": 1, "tags": []}).encode()
REQUEST = (b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"webhook-id: load\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
RESPONSE_LEN = len(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
WINDOW = 16


async def connection(port, deadline, counter):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    in_flight = 0
    while time.monotonic() < deadline:
        while in_flight < WINDOW:
            writer.write(REQUEST)
            in_flight += 1
        await writer.drain()
        await reader.readexactly(RESPONSE_LEN)
        in_flight -= 1
        counter[0] += 1
    for _ in range(in_flight):
        await reader.readexactly(RESPONSE_LEN)
    writer.close()


async def main(port, seconds, connections):
    counter = [0]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(connection(port, deadline, counter) for _ in range(connections)))
    print(json.dumps({"sent": counter[0], "seconds": time.monotonic() - started}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])))
