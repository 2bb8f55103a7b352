#!/usr/bin/python3
"""arc_dnsrelay.py NETNS READY-FILE: the one test DNS for a host in another network namespace
(tests/e2e/arc-chain.sh). Started inside a hop's namespace (`ip netns exec HOP ...`), it
binds 127.0.0.1:53 there (UDP and TCP), then joins network namespace NETNS (setns(2) on
/run/netns/NETNS, before any thread exists, so every later socket is made there) and relays
each query to 127.0.0.1:53 of NETNS, where the harness's validating unbound answers only
loopback clients. Writes READY-FILE once it relays. No data is changed: the hop's resolver
(libunbound in milter-dkim, dnspython) still validates DNSSEC itself where it is asked to.
Every exchange is bounded (5 s UDP, 10 s idle TCP)."""
import ctypes
import os
import select
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000
UP = ("127.0.0.1", 53)


def udp_one(lsock, data, client):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        s.sendto(data, UP)
        lsock.sendto(s.recv(65535), client)
    except OSError:
        pass
    finally:
        s.close()


def udp_loop(lsock):
    while True:
        data, client = lsock.recvfrom(65535)
        threading.Thread(target=udp_one, args=(lsock, data, client), daemon=True).start()


def tcp_one(conn):
    try:
        up = socket.create_connection(UP, timeout=5)
    except OSError:
        conn.close()
        return
    socks = [conn, up]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 10)
            if not r:
                break
            for s in r:
                b = s.recv(65535)
                if not b:
                    return
                (up if s is conn else conn).sendall(b)
    except OSError:
        pass
    finally:
        conn.close()
        up.close()


def tcp_loop(lsock):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=tcp_one, args=(conn,), daemon=True).start()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(UP)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(UP)
    t.listen(32)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + sys.argv[1], os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        print("setns %s: %s" % (sys.argv[1], os.strerror(e)), file=sys.stderr)
        return 1
    os.close(fd)
    threading.Thread(target=udp_loop, args=(u,), daemon=True).start()
    with open(sys.argv[2], "w") as f:
        f.write("%d\n" % os.getpid())
    tcp_loop(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
