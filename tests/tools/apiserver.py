#!/usr/bin/env python3
"""A recording stand-in for the Analytics API (docs/api.md), with fault injection.

Every request is appended to --log as one JSON line and flushed, so a test can
read the file while the server runs:

  {"seq": 1, "time": 1700000000.123, "method": "POST",
   "path": "/api/os-1/hw1/202012345/logs/build",
   "idempotency_key": "boot-42", "client_port": 51234,
   "response": 200 | 503 | 422 | "drop", "committed": true | false,
   "headers": {...}, "body": "<raw body as text>", "json": {...} or null}

Lines are written when a request arrives (before any --delay), keys in
this order. "time" is the arrival time.

"committed" says whether the server "stored" the request: true for a 2xx
answer and for --commit-then-drop, false otherwise. "client_port" identifies
the TCP connection (equal ports = a reused keep-alive connection).

Faults, each counted over requests in arrival order and checked in this
order (the first that applies decides the answer):
  --drop-first N         close the connection without answering (not committed)
  --commit-then-drop N   record as committed, then close without answering
  --fail-first N         answer --fail-status (default 503), with
                         Retry-After: --retry-after if given
  --fail-for S           the same for every request in the first S seconds
                         after the server started (an outage of S seconds)
  --reject-marker STR    a body containing STR gets --reject-status (default
                         422) and a pydantic-like error document
  --delay S              wait S seconds before answering (the first
                         --delay-first N requests only, if given)
  --spells FILE          a schedule, JSON: [{"kind": "fail"|"slow",
                         "start": T, "end": T, "delay": S}, ...] with T in
                         Unix seconds: "fail" answers --fail-status to every
                         request arriving in [start, end) (a 5xx spell),
                         "slow" waits "delay" seconds before answering (an
                         overloaded database); read once at start, so a
                         restarted server keeps the same schedule
  --jitter S             every other answer waits uniform(0, S) seconds, as a
                         real service's handler and database do
Otherwise: 200 {"message": "ok"}. HTTP/1.1 with keep-alive, Content-Length
always set. GET /_health answers 200 and is not recorded.

Usage: apiserver.py --log FILE [--port P | --port 0 --port-file F] [faults]
Python 3 standard library only. Stops on SIGTERM/SIGINT.
"""

import socket
import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Faults:
    """Shared fault budget; every decision is taken under one lock so
    concurrent requests consume the counters exactly."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.seq = 0
        self.drop = args.drop_first
        self.commit_drop = args.commit_then_drop
        self.fail = args.fail_first
        self.delay_left = args.delay_first
        self.args = args
        self.started = time.monotonic()
        self.spells = []
        if args.spells:
            with open(args.spells, encoding="utf-8") as f:
                self.spells = json.load(f)

    def spell(self, now):
        """The scheduled spell in force at Unix time now, or None."""
        for sp in self.spells:
            if sp["start"] <= now < sp["end"]:
                return sp
        return None

    def decide(self, body):
        """Returns (seq, action, delay) with action one of
        'drop', 'commit-drop', 'fail', 'reject', 'ok'."""
        a = self.args
        with self.lock:
            self.seq += 1
            seq = self.seq
            delay = 0.0
            if a.delay > 0:
                if a.delay_first is None:
                    delay = a.delay
                elif self.delay_left > 0:
                    self.delay_left -= 1
                    delay = a.delay
            if self.drop > 0:
                self.drop -= 1
                return seq, "drop", delay
            if self.commit_drop > 0:
                self.commit_drop -= 1
                return seq, "commit-drop", delay
            if self.fail > 0:
                self.fail -= 1
                return seq, "fail", delay
            if time.monotonic() - self.started < a.fail_for:
                return seq, "fail", delay
            sp = self.spell(time.time())
            if sp is not None and sp["kind"] == "fail":
                return seq, "fail", delay
            if sp is not None and sp["kind"] == "slow":
                delay = max(delay, float(sp.get("delay", 0.5)))
            elif a.jitter > 0:
                delay = max(delay, random.uniform(0, a.jitter))
        if a.reject_marker is not None and a.reject_marker.encode() in body:
            return seq, "reject", delay
        return seq, "ok", delay


class Recorder:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8")

    def write(self, rec):
        line = json.dumps(rec, ensure_ascii=False)
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


def reject_document():
    # The shape FastAPI/pydantic gives a 422.
    return {"detail": [{"loc": ["body", "exit_code"],
                        "msg": "value is not a valid integer",
                        "type": "type_error.integer"}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive; every answer has a length
    server_version = "jcw-apiserver/1"

    def setup(self):
        # Headers and body go out in two writes; with Nagle on, the second
        # waits for the client's delayed ACK (~40 ms per request).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("apiserver: " + (fmt % args) + "\n")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def answer(self, status, doc, extra=None):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def drop(self):
        # Close without a status line: the client sees an empty reply.
        self.close_connection = True

    def do_GET(self):
        if self.path == "/_health":
            self.answer(200, {"message": "ok"})
        else:
            self.answer(404, {"detail": "Not Found"})

    def do_POST(self):
        self.handle_request()

    def do_PUT(self):
        self.handle_request()

    def handle_request(self):
        srv = self.server
        body = self.read_body()
        seq, action, delay = srv.faults.decide(body)
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
        # Keys in a fixed order, top-level fields first and the parsed body
        # last, so a line can be searched for '"path": ' without meeting a
        # key of the body.
        rec = {
            "seq": seq,
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "client_port": self.client_address[1],
        }
        if action == "drop":
            rec.update(response="drop", committed=False)
        elif action == "commit-drop":
            rec.update(response="drop", committed=True)
        elif action == "fail":
            rec.update(response=srv.args.fail_status, committed=False)
        elif action == "reject":
            rec.update(response=srv.args.reject_status, committed=False)
        else:
            rec.update(response=200, committed=True)
        rec["headers"] = {k: v for k, v in self.headers.items()}
        rec["body"] = body.decode("utf-8", errors="replace")
        rec["json"] = parsed
        # Recorded on arrival, before any --delay: once the client has its
        # answer (or has given up waiting), the line is in the file.
        srv.recorder.write(rec)
        if delay > 0:
            time.sleep(delay)
        if action in ("drop", "commit-drop"):
            self.drop()
        elif action == "fail":
            extra = {}
            if srv.args.retry_after is not None:
                extra["Retry-After"] = srv.args.retry_after
            self.answer(srv.args.fail_status, {"detail": "injected failure"}, extra)
        elif action == "reject":
            self.answer(srv.args.reject_status, reject_document())
        else:
            self.answer(200, {"message": "ok"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gave up (timeout) resets the connection: expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--port-file", help="write the bound port here (atomically)")
    p.add_argument("--log", required=True, help="JSON line per request")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-for", type=float, default=0.0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--retry-after", help="Retry-After value sent with --fail-status")
    p.add_argument("--drop-first", type=int, default=0)
    p.add_argument("--commit-then-drop", type=int, default=0)
    p.add_argument("--reject-marker")
    p.add_argument("--reject-status", type=int, default=422)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--delay-first", type=int, default=None)
    p.add_argument("--spells", help="JSON schedule of 5xx and slow spells")
    p.add_argument("--jitter", type=float, default=0.0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    srv = Server((args.host, args.port), Handler)
    srv.args = args
    srv.verbose = args.verbose
    srv.faults = Faults(args)
    srv.recorder = Recorder(args.log)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    else:
        print(port, flush=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
