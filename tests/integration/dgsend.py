#!/usr/bin/env python3
"""dgsend.py: a datagram sender for tests/integration/server-dgram.sh.

  dgsend.py PATH send COUNT PREFIX [dontwait]   COUNT datagrams "PREFIX:<i>:<padding>",
        blocking (each send waits at most 10 s) or with MSG_DONTWAIT (EAGAIN: lost);
        prints "sent N lost M"
  dgsend.py PATH big SIZE PREFIX                one datagram of SIZE bytes; prints "sent 1"
"""
import errno
import socket
import struct
import sys


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    if cmd == "big":
        size, prefix = int(sys.argv[3]), sys.argv[4]
        msg = (prefix + ":").encode() + b"x" * (size - len(prefix) - 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 10, 0))
        s.sendto(msg, path)
        print("sent 1")
        return 0
    count, prefix = int(sys.argv[3]), sys.argv[4]
    dontwait = len(sys.argv) > 5 and sys.argv[5] == "dontwait"
    if not dontwait:  # a kernel-side blocking send, bounded (a timeout counts as lost)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 10, 0))
    sent = lost = 0
    pad = b"." * 200
    for i in range(count):
        msg = b"%s:%d:%s" % (prefix.encode(), i, pad)
        try:
            if dontwait:
                s.sendto(msg, socket.MSG_DONTWAIT, path)
            else:
                s.sendto(msg, path)
            sent += 1
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise
            lost += 1
    print("sent %d lost %d" % (sent, lost))
    return 0


sys.exit(main())
