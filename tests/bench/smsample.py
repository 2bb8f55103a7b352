#!/usr/bin/python3
"""smsample.py: the answers of a socketmap server for a sample of keys, for scripts/bench.

  smsample.py unix:/path MAP KEYFILE [TIMEOUT]

Asks every key of KEYFILE (one per line) over one connection, one request at a time, and
prints "KEY<TAB>REPLY" per key, REPLY being the reply's payload ("OK data", "NOTFOUND ",
...). The `match=` list of an OK reply is printed sorted (mta-sts-daemon joins a policy's
mx patterns in Python set order, which changes from run to run; the set is the answer).
Exit 1 on an I/O or framing error.
"""
import socket
import sys


def netstring(b):
    return str(len(b)).encode() + b":" + b + b","


def read_reply(s, buf):
    while True:
        i = buf.find(b":")
        if i > 0:
            n = int(buf[:i])
            if len(buf) >= i + 1 + n + 1:
                if buf[i + 1 + n:i + 2 + n] != b",":
                    raise ValueError("bad netstring")
                return buf[i + 1:i + 1 + n], buf[i + 2 + n:]
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk


def normalise(reply):
    words = reply.split(" ")
    for k, w in enumerate(words):
        if w.startswith("match="):
            words[k] = "match=" + ":".join(sorted(w[6:].split(":")))
    return " ".join(words)


def main():
    addr, name, keyfile = sys.argv[1], sys.argv[2], sys.argv[3]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 15.0
    if not addr.startswith("unix:"):
        sys.exit("smsample.py: unix:/path only")
    keys = [l.strip() for l in open(keyfile) if l.strip()]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(addr[5:])
    buf = b""
    for k in keys:
        s.sendall(netstring(name.encode() + b" " + k.encode()))
        payload, buf = read_reply(s, buf)
        print("%s\t%s" % (k, normalise(payload.decode("utf-8", "replace"))))
    s.close()


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, EOFError) as e:
        sys.exit("smsample.py: %s" % e)
