#!/usr/bin/env python3
"""badclient.py: hostile clients for tests/integration/bad-input.sh. Every wait is bounded
(5 s per read, 20 s per case).

  badclient.py milter SOCKET CASE      one hostile milter session (CASE below); prints
                                       "closed" when the milter closed the connection,
                                       "open" when it still answered / waited, then the
                                       replies seen ("reply X" per packet)
  badclient.py sockmap SOCKET CASE     one hostile socketmap request; prints the reply
                                       payload ("PERM ...") or "closed" when the server
                                       closed without one
  badclient.py dgram SOCKET CASE       one hostile datagram (CASE below)
  badclient.py dgram SOCKET good FILE DOMAIN [PAD]  FILE's bytes as one datagram, with
                                       d1.test replaced by DOMAIN; PAD: padded with spaces
                                       to exactly PAD bytes

Milter sessions that reach RCPT send the queue id "BADQ" (macro i), as Postfix does.
Milter cases: random, len2g, overlimit, truncated, unknown, body-first, eom-no-mail,
header-nonul, headers-many, header-huge, close-mid-body.
Socketmap cases: oversize, digits20, nondigit, nocomma, truncated, binary, nul, domain10k,
unknown-map.
Datagram cases: truncated, at-limit, over-limit, non-utf8, wrong-shape, empty.
Exit 0 when the case was sent (the caller checks what the daemon did), 1 on a local error.
"""
import os
import random
import socket
import struct
import sys
import time

DGRAM_MAX = 65536          # common/server_dgram.h SERVER_DGRAM_MAX_DEFAULT
MILTER_MAX = 1024 * 1024 - 1  # common/milter.c MILTER_PACKET_MAX
SOCKETMAP_MAX = 10000      # common/socketmap.h SOCKETMAP_REQUEST_MAX


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def optneg():
    # version 6, every action, every protocol step offered (as Postfix and milterload do)
    return pkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))


def connect_pkt():
    return pkt(b"C", b"client.example\0" + b"4" + struct.pack(">H", 12345) + b"127.0.0.1\0")


def read_packets(s, until_close=True):
    """Read replies until the peer closes, sends a final verdict (accept, reject, tempfail,
    discard, reply code) or is quiet for 1 s; return (closed, cmds)."""
    buf, cmds = b"", []
    s.settimeout(1)
    end = time.time() + 20
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return False, cmds
        except (ConnectionResetError, BrokenPipeError):
            return True, cmds
        if not chunk:
            return True, cmds
        buf += chunk
        while len(buf) >= 5:
            n = struct.unpack(">I", buf[:4])[0]
            if len(buf) < 4 + n:
                break
            cmds.append(buf[4:5].decode("latin-1"))
            buf = buf[4 + n:]
        if cmds and cmds[-1] in "ardty":  # the final verdict at end of message
            return False, cmds
    return False, cmds


def send(s, data):
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def milter(path, case):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    rng = random.Random(42)
    hello = optneg() + connect_pkt() + pkt(b"H", b"client.example\0")
    mail = (pkt(b"M", b"<sender@example.test>\0") + pkt(b"D", b"Ri\0BADQ\0") +
            pkt(b"R", b"<rcpt@example.org>\0"))
    head = pkt(b"L", b"From\0sender@example.test\0") + pkt(b"L", b"Subject\0bad input\0")
    if case == "random":
        data = bytes(rng.getrandbits(8) for _ in range(4096))
        send(s, b"\x7f" + data)  # first length byte 0x7f: far over the packet limit
    elif case == "len2g":
        send(s, struct.pack(">I", 1 << 31) + b"O" + b"x" * 64)
    elif case == "overlimit":
        send(s, hello + mail + head + struct.pack(">I", MILTER_MAX + 16) + b"L" + b"x" * 4096)
    elif case == "truncated":
        send(s, optneg()[:7])
        s.shutdown(socket.SHUT_WR)
    elif case == "unknown":
        send(s, hello + mail + head + pkt(b"Z", b"what\0") + pkt(b"\x01"))
    elif case == "body-first":
        send(s, optneg() + pkt(b"B", b"body before connect and helo\r\n") + pkt(b"E"))
    elif case == "eom-no-mail":
        send(s, hello + pkt(b"E"))
    elif case == "header-nonul":
        send(s, hello + mail + head + pkt(b"L", b"Subject: no nul anywhere"))
    elif case == "headers-many":
        send(s, hello + mail + head)
        many = b"".join(pkt(b"L", b"X-Many-%d\0value %d\0" % (i, i)) for i in range(100000))
        send(s, many + pkt(b"N") + pkt(b"B", b"hello\r\n") + pkt(b"E"))
    elif case == "header-huge":
        send(s, hello + mail + head)
        send(s, pkt(b"L", b"X-Huge\0" + b"y" * (MILTER_MAX - 16) + b"\0") + pkt(b"N") +
             pkt(b"B", b"hello\r\n") + pkt(b"E"))
    elif case == "close-mid-body":
        send(s, hello + mail + head + pkt(b"N") + pkt(b"B", b"first chunk of a body\r\n" * 100))
        send(s, struct.pack(">I", 60000) + b"B" + b"z" * 1000)
        s.shutdown(socket.SHUT_WR)
    else:
        print("unknown case " + case, file=sys.stderr)
        return 1
    closed, cmds = read_packets(s)
    s.close()
    print("closed" if closed else "open")
    for c in cmds:
        print("reply " + c)
    return 0


def sockmap(path, case):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    if case == "oversize":
        data = b"%d:postfix example.test," % (SOCKETMAP_MAX + 1)
    elif case == "digits20":
        data = b"99999999999999999999:postfix example.test,"
    elif case == "nondigit":
        data = b"1x:postfix example.test,"
    elif case == "nocomma":
        data = b"20:postfix example.test;"
    elif case == "truncated":
        data = b"40:postfix exa"
    elif case == "binary":
        key = b"\xff\xfe\x01\x02"
        data = b"%d:postfix\x80\x81 %s," % (len(b"postfix\x80\x81 ") + len(key), key)
    elif case == "nul":
        payload = b"postfix exa\0mple.test"
        data = b"%d:%s," % (len(payload), payload)
    elif case == "domain10k":
        payload = b"postfix " + b"a" * (SOCKETMAP_MAX - 8 - 5) + b".test"
        data = b"%d:%s," % (len(payload), payload)
    elif case == "unknown-map":
        payload = b"nosuchmap example.test"
        data = b"%d:%s," % (len(payload), payload)
    else:
        print("unknown case " + case, file=sys.stderr)
        return 1
    send(s, data)
    if case == "truncated":
        s.shutdown(socket.SHUT_WR)
    buf = b""
    end = time.time() + 20
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            print("open (no reply)")
            return 0
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        buf += chunk
        colon = buf.find(b":")
        if colon > 0 and buf[:colon].isdigit():
            n = int(buf[:colon])
            if len(buf) >= colon + n + 2:
                print(buf[colon + 1:colon + 1 + n].decode("latin-1"))
                return 0
    print("closed" if not buf else "garbage " + repr(buf[:80]))
    return 0


def dgram(path, case, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.settimeout(10)
    if case == "good":
        data = open(args[0], "rb").read().replace(b"d1.test", args[1].encode())
        if len(args) > 2:
            data = data + b" " * (int(args[2]) - len(data))
    elif case == "truncated":
        data = b'{"tlsrpt-version":"0.5","policies":[{"policy":{"policy-type":"sts",'
    elif case == "at-limit":
        data = b'{"x":"' + b"a" * (DGRAM_MAX - 8) + b'"}'
    elif case == "over-limit":
        data = b'{"x":"' + b"a" * (DGRAM_MAX + 1 - 8) + b'"}'
    elif case == "non-utf8":
        data = b'{"tlsrpt-version":"\xff\xfe\xc3\x28","policies":[]}'
    elif case == "wrong-shape":
        data = b'[1,2,{"policies":"not a list"}]'
    elif case == "empty":
        data = b""
    else:
        print("unknown case " + case, file=sys.stderr)
        return 1
    s.sendto(data, path)
    print("sent %d bytes" % len(data))
    return 0


def main():
    kind, path, case = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "milter":
        return milter(path, case)
    if kind == "sockmap":
        return sockmap(path, case)
    if kind == "dgram":
        return dgram(path, case, sys.argv[4:])
    print(__doc__, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
