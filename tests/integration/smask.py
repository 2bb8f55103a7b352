#!/usr/bin/python3
"""smask.py SOCKET NAME KEY...: send one socketmap request per KEY on one connection,
all written before any reply is read (pipelined), and print each reply payload on its own
line, in order. SOCKET is a unix socket path. Exit 1 on a framing error or a short reply.
Bounded: 30 s per connection."""
import socket
import sys


def read_netstring(f):
    digits = b""
    while True:
        c = f.read(1)
        if not c:
            raise EOFError("connection closed")
        if c == b":":
            break
        if not c.isdigit() or len(digits) > 6:
            raise ValueError("bad length")
        digits += c
    n = int(digits)
    data = f.read(n)
    if len(data) != n or f.read(1) != b",":
        raise ValueError("short payload")
    return data


def main():
    path, name, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    out = b"".join(b"%d:%s," % (len(p), p) for p in
                   ((name + " " + k).encode() for k in keys))
    s.sendall(out)
    f = s.makefile("rb")
    try:
        for _ in keys:
            print(read_netstring(f).decode("utf-8", "replace"))
    except (EOFError, ValueError) as e:
        print("error: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
