#!/usr/bin/env python3
"""smclient.py: a socketmap client for tests/integration/server.sh. Every wait is bounded.

  smclient.py ADDR query NAME KEY          print the reply payload
  smclient.py ADDR concurrent CONNS REQS   CONNS connections at once, REQS requests each
  smclient.py ADDR pipelined COUNT         COUNT requests in one write, then the replies
  smclient.py ADDR split                   one request in pieces 100 ms apart
  smclient.py ADDR stall SECONDS           half a request, then wait: print how long until
                                           the server closed (or "open" after SECONDS)
  smclient.py ADDR idle SECONDS            connect, send nothing: same report
  smclient.py ADDR limit OPEN              hold OPEN connections, check that one more is
                                           answered only after one of them is closed
  smclient.py ADDR hold FILE SECONDS       connect, write "connected" to FILE, wait until
                                           the server closes (or SECONDS), append "closed T"

ADDR is unix:/path or inet:host:port. The OK replies expected are "OK <prefix><key>",
with the prefix given by $SM_PREFIX. Exit 0 when the check holds, else 1 with a reason.
"""
import os
import socket
import sys
import threading
import time


def connect(addr, timeout=5.0):
    kind, _, rest = addr.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(rest)
    else:
        host, _, port = rest.rpartition(":")
        s = socket.create_connection((host, int(port)), timeout=timeout)
    return s


def ns(payload):
    b = payload.encode()
    return str(len(b)).encode() + b":" + b + b","


def read_reply(s, buf=b""):
    """One netstring from s (with leftover buf); return (payload, rest)."""
    while True:
        colon = buf.find(b":")
        if colon > 0:
            n = int(buf[:colon])
            if len(buf) >= colon + 1 + n + 1:
                if buf[colon + 1 + n:colon + 2 + n] != b",":
                    raise ValueError("bad netstring")
                return buf[colon + 1:colon + 1 + n].decode(), buf[colon + 2 + n:]
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("closed by the server")
        buf += chunk


def expect(key):
    return "OK " + os.environ.get("SM_PREFIX", "") + key


def wait_closed(s, seconds):
    """Seconds until the peer closed s, or None if still open after `seconds`."""
    t0 = time.monotonic()
    s.settimeout(seconds)
    try:
        while True:
            if not s.recv(4096):
                return time.monotonic() - t0
    except socket.timeout:
        return None
    except ConnectionResetError:
        return time.monotonic() - t0


def main():
    addr, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "query":
        s = connect(addr, 60)
        s.sendall(ns(args[0] + " " + args[1]))
        print(read_reply(s)[0])
        return 0
    if cmd == "concurrent":
        conns, reqs = int(args[0]), int(args[1])
        errors = []

        def worker(i):
            try:
                s = connect(addr, 20)
                rest = b""
                for j in range(reqs):
                    key = "k%d.%d.example" % (i, j)
                    s.sendall(ns("map " + key))
                    got, rest = read_reply(s, rest)
                    if got != expect(key):
                        errors.append("%r != %r" % (got, expect(key)))
                        return
                s.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("conn %d: %s" % (i, e))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if errors or any(t.is_alive() for t in threads):
            print("errors: %d, first: %s" % (len(errors), errors[:1]))
            return 1
        return 0
    if cmd == "pipelined":
        count = int(args[0])
        s = connect(addr, 10)
        s.sendall(b"".join(ns("map p%d" % i) for i in range(count)))
        rest = b""
        for i in range(count):
            got, rest = read_reply(s, rest)
            if got != expect("p%d" % i):
                print("reply %d: %r" % (i, got))
                return 1
        return 0
    if cmd == "split":
        s = connect(addr)
        if addr.startswith("inet"):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = ns("map split.example")
        for piece in (req[:1], req[1:4], req[4:9], req[9:]):
            s.sendall(piece)
            time.sleep(0.1)
        got = read_reply(s)[0]
        if got != expect("split.example"):
            print("reply %r" % got)
            return 1
        return 0
    if cmd in ("stall", "idle"):
        s = connect(addr)
        if cmd == "stall":
            s.sendall(b"20:map half")
        t = wait_closed(s, float(args[0]))
        print("open" if t is None else "%.3f" % t)
        return 0
    if cmd == "limit":
        held = [connect(addr) for _ in range(int(args[0]))]
        # every held connection is being served (answered) before the extra one is tried
        for i, h in enumerate(held):
            h.sendall(ns("map held%d" % i))
            read_reply(h)
        extra = connect(addr)
        extra.sendall(ns("map extra"))
        extra.settimeout(0.7)
        try:
            got = read_reply(extra)[0]
            print("answered beyond the limit: %r" % got)
            return 1
        except socket.timeout:
            pass
        held[0].close()
        extra.settimeout(5)
        got = read_reply(extra)[0]
        if got != expect("extra"):
            print("reply %r" % got)
            return 1
        return 0
    if cmd == "hold":
        s = connect(addr)
        with open(args[0], "w") as f:
            f.write("connected\n")
        t = wait_closed(s, float(args[1]))
        with open(args[0], "a") as f:
            f.write("closed %s\n" % ("never" if t is None else "%.3f" % t))
        return 0
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main())
