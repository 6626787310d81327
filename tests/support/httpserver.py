#!/usr/bin/python3
"""httpserver — a small HTTP file server for rasterpool's remote tests and bench.

Serves the files under --root on 127.0.0.1 with what GDAL's /vsicurl/ needs
(HEAD, single byte ranges "Range: bytes=a-b", keep-alive HTTP/1.1) and what
the tests need to make the network realistic or hostile:

  --latency-ms N     sleep N ms before answering each request (HEAD and GET)
  --fail-503 P       answer a share P (0..1) of requests with 503
  --drop P           close the connection without answering a share P
  --fail-path RE     requests whose path matches RE ...
  --fail-from-byte N ... and whose range starts at byte >= N always get 503
  --fault KIND       what those requests get instead: 503 (default); stall
                     (the connection is accepted and nothing is ever sent);
                     drip (the status line and headers, then one byte of the
                     body every 20 s); reset (the connection is reset, RST)
  --fail-byte B      range requests "bytes=a-b" with a <= B <= b always get 503
                     (a dead spot: a merged range over it fails, its neighbours
                     alone do not)
  --seed S           the faults' random sequence (deterministic per request order)
  --log FILE         append a line a counted request: arrival and answer times
                     (Unix seconds), HEAD or GET, and its Range header ("-" when none)

GET /__stats answers JSON counts (requests, head, get, bytes, injected 503s,
drops and dead-spot 503s); its own request is not counted. Every counted GET is
one range request GDAL sent, so the counts show how well reads are merged.
It prints "PORT <n>" on stdout once listening (port 0 picks a free one) and
exits when its parent dies (PR_SET_PDEATHSIG, and a check of the parent's
pid every half second), so it never outlives the test that started it.

From Python, use the context manager:

    with HttpServer(root, latency_ms=20) as srv:
        url = srv.url("tile.tif")      # http://127.0.0.1:PORT/tile.tif
        srv.stats()                    # the /__stats counts

Run with /usr/bin/python3; it needs only the standard library.
"""
import argparse
import ctypes
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.abspath(__file__)


class Config:
    root = "."
    latency = 0.0
    fail_503 = 0.0
    drop = 0.0
    fail_path = None
    fail_from_byte = 0
    fault = "503"
    fail_byte = -1
    log = None  # --log: one line a counted request
    rng = random.Random(0)
    lock = threading.Lock()
    stats = {"requests": 0, "head": 0, "get": 0, "bytes": 0, "injected_503": 0,
             "injected_drop": 0, "path_503": 0, "stalled": 0, "byte_503": 0,
             "path_reset": 0}


def count(key, n=1):
    with Config.lock:
        Config.stats[key] += n


def draw():
    with Config.lock:
        return Config.rng.random()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connections are reused
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK add up to 40 ms to every answer
    disable_nagle_algorithm = True
    server_version = "rasterpool-test/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _path(self):
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        full = os.path.realpath(os.path.join(Config.root, rel))
        root = os.path.realpath(Config.root)
        if full != root and not full.startswith(root + os.sep):
            return None
        return full

    def _empty(self, code, extra=None):
        self.send_response(code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _faults(self, start, end):
        """True when a fault was injected (the request is answered or dropped)."""
        if Config.fail_byte >= 0 and end is not None and start <= Config.fail_byte <= end:
            count("byte_503")
            self._empty(503)
            return True
        if Config.fail_path and re.search(Config.fail_path, self.path) and \
                start >= Config.fail_from_byte:
            if Config.fault == "503":
                count("path_503")
                self._empty(503)
            elif Config.fault == "reset":
                count("path_reset")
                self._reset()
            else:
                self._stall()
            return True
        r = draw()
        if r < Config.drop:
            count("injected_drop")
            self._reset()
            return True
        if r < Config.drop + Config.fail_503:
            count("injected_503")
            self._empty(503)
            return True
        return False

    def _reset(self):
        """Resets the connection (SO_LINGER 0 sends RST), as a proxy or an
        overloaded server does; curl reports "connection reset by peer"."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _stall(self):
        """Never answers (stall), or answers a byte every 20 s (drip), until
        the client goes away (at most 10 minutes)."""
        count("stalled")
        self.close_connection = True
        end = time.time() + 600
        try:
            if Config.fault == "drip":
                self.send_response(206)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                self.wfile.flush()
            self.connection.settimeout(20)
            while time.time() < end:
                try:
                    if not self.connection.recv(1):  # the client closed
                        return
                except socket.timeout:
                    if Config.fault == "drip":
                        self.wfile.write(b"x")
                        self.wfile.flush()
        except OSError:
            pass

    def _serve(self, head):
        if self.path.startswith("/__stats"):
            with Config.lock:
                body = json.dumps(Config.stats).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        count("requests")
        count("head" if head else "get")
        arrived = time.time()
        try:
            self._answer(head)
        finally:
            if Config.log:
                with Config.lock:
                    Config.log.write("%.4f %.4f %s %s\n" % (
                        arrived, time.time(), "HEAD" if head else "GET",
                        (self.headers.get("Range") or "-").replace(" ", "")))
                    Config.log.flush()

    def _answer(self, head):
        if Config.latency:
            time.sleep(Config.latency)
        full = self._path()
        rng = self.headers.get("Range")
        start, end = 0, None
        m = re.match(r"^bytes=(\d+)-(\d*)$", rng.strip()) if rng else None
        if m:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else None
        if self._faults(start, end):
            return
        if not full or not os.path.isfile(full):
            self._empty(404)
            return
        size = os.path.getsize(full)
        if m:
            if start >= size:
                self._empty(416, {"Content-Range": "bytes */%d" % size})
                return
            end = size - 1 if end is None or end >= size else end
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        else:  # no range, or a multi-range request: the whole file
            start, end = 0, size - 1
            self.send_response(200)
        n = end - start + 1
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if head:
            return
        with open(full, "rb") as f:
            f.seek(start)
            data = f.read(n)
        self.wfile.write(data)
        count("bytes", len(data))

    def do_HEAD(self):
        self._serve(True)

    def do_GET(self):
        self._serve(False)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def watch_parent(ppid):
    while True:
        if os.getppid() != ppid:
            os._exit(0)
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--fail-503", type=float, default=0)
    ap.add_argument("--drop", type=float, default=0)
    ap.add_argument("--fail-path")
    ap.add_argument("--fail-from-byte", type=int, default=0)
    ap.add_argument("--fail-byte", type=int, default=-1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fault", choices=("503", "stall", "drip", "reset"), default="503")
    ap.add_argument("--log")
    a = ap.parse_args()
    ppid = os.getppid()
    try:  # die with the parent (Linux)
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != ppid:
        return
    threading.Thread(target=watch_parent, args=(ppid,), daemon=True).start()
    Config.root = a.root
    Config.latency = a.latency_ms / 1000.0
    Config.fail_503 = a.fail_503
    Config.drop = a.drop
    Config.fail_path = a.fail_path
    Config.fail_from_byte = a.fail_from_byte
    Config.fault = a.fault
    Config.fail_byte = a.fail_byte
    Config.rng = random.Random(a.seed)
    Config.log = open(a.log, "a") if a.log else None
    srv = Server(("127.0.0.1", a.port), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv.serve_forever()


class HttpServer:
    """Starts the server as a child process; stops it on exit from `with`."""

    def __init__(self, root, latency_ms=0, fail_503=0.0, drop=0.0, fail_path=None,
                 fail_from_byte=0, seed=0, fault="503", fail_byte=-1, log=None):
        self.args = [sys.executable if os.path.basename(sys.executable).startswith("python")
                     else "/usr/bin/python3", HERE, "--root", root,
                     "--latency-ms", str(latency_ms), "--fail-503", str(fail_503),
                     "--drop", str(drop), "--fail-from-byte", str(fail_from_byte),
                     "--seed", str(seed), "--fault", fault, "--fail-byte", str(fail_byte)]
        if fail_path:
            self.args += ["--fail-path", fail_path]
        if log:
            self.args += ["--log", log]
        self.proc = None
        self.port = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("httpserver did not start: %r" % line)
        self.port = int(line.split()[1])
        return self

    def url(self, name=""):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def stats(self):
        with urllib.request.urlopen(self.url("__stats"), timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self.stop()
        return False


if __name__ == "__main__":
    main()
