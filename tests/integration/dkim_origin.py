#!/usr/bin/python3
"""dkim_origin.py DIR: the origin of the ARC tests (dkim-arc*.sh): a fresh RSA-2048 key,
its TXT record as DIR/origin.rr ("NAME TTL TXT RDATA" for the harness DNS, at
origin._domainkey.origin.example.test) and DIR/origin.eml, a message signed with it by
dkimpy (relaxed/relaxed) that carries an Authentication-Results claiming the forwarder's
authserv-id mx.fwd.example.test (forged) and one from spf.fwd.example.test (trusted);
DIR/nokey.eml is the same with s=gone (no such key). CRLF line ends."""
import base64
import subprocess
import sys

import dkim

d = sys.argv[1]
pem = subprocess.run(["openssl", "genrsa", "-traditional", "2048"], capture_output=True,
                     check=True).stdout
der = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem,
                     capture_output=True, check=True).stdout
rec = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
rdata = " ".join('"%s"' % rec[i:i + 200] for i in range(0, len(rec), 200))
open(d + "/origin.rr", "w").write("origin._domainkey.origin.example.test. 5 TXT %s\n" % rdata)
msg = (b"Authentication-Results: mx.fwd.example.test; dkim=pass header.d=forged.example.test\r\n"
       b"Authentication-Results: spf.fwd.example.test; spf=pass smtp.mailfrom=origin.example.test\r\n"
       b"From: Ann <ann@origin.example.test>\r\nTo: list@fwd1.example.test\r\n"
       b"Subject: forwarded  twice\r\nDate: Tue, 24 Nov 2026 12:00:00 +0000\r\n"
       b"Message-ID: <arc-1@origin.example.test>\r\n\r\nHello  list,\r\n\r\nbody text\r\n")
sig = dkim.sign(msg, b"origin", b"origin.example.test", pem,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(d + "/origin.eml", "wb").write(sig + msg)
open(d + "/nokey.eml", "wb").write(sig.replace(b"s=origin", b"s=gone") + msg)
# simple.eml: header fields without a space after the colon and with three, signed
# simple/simple: only a verifier that gets every byte after the colon (SMFIP_HDR_LEADSPC)
# gets dkim=pass
simple = (b"From: Ann <ann@origin.example.test>\r\nTo: list@fwd1.example.test\r\n"
          b"Subject:tight\r\nX-Wide:   wide\r\nDate: Tue, 24 Nov 2026 12:00:00 +0000\r\n"
          b"Message-ID: <arc-2@origin.example.test>\r\n\r\nsimple body\r\n")
sig = dkim.sign(simple, b"origin", b"origin.example.test", pem,
                canonicalize=(b"simple", b"simple"),
                include_headers=[b"from", b"to", b"subject", b"x-wide", b"date", b"message-id"])
open(d + "/simple.eml", "wb").write(sig + simple)
# late.eml: signed with the same key under selector "late", published by the test when it
# wants (DIR/late.rr), so that its first lookup happens when the test says
open(d + "/late.rr", "w").write("late._domainkey.origin.example.test. 5 TXT %s\n" % rdata)
sig = dkim.sign(msg, b"late", b"origin.example.test", pem,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(d + "/late.eml", "wb").write(sig + msg)
