#!/usr/bin/python3
# Make DKIM and ARC test messages with dkimpy (an independent implementation) for
# test_dkim_verify.c and test_dkim_arc.c, fresh keys each run.
# usage: dkim_vectors.py OUTDIR
# Writes OUTDIR/zone ("<name> <TXT value>" lines), OUTDIR/<case>.eml and OUTDIR/cases:
# "<case> <dkimpy's result for each DKIM-Signature, top first, comma-separated>"
# ("-" when the message has none) " <dkimpy's ARC cv>".
import base64
import os
import subprocess
import sys
import time

import dkim
import nacl.encoding
import nacl.signing

out = sys.argv[1]
zone = {}


def rsa_key(name, bits=2048):
    pem = subprocess.run(["openssl", "genrsa", "-traditional", str(bits)],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    zone[name] = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    return pem


def ed_key(name):
    sk = nacl.signing.SigningKey.generate()
    zone[name] = "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode()
    return sk.encode(encoder=nacl.encoding.Base64Encoder)


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    v = zone.get(name.rstrip("."))
    return v.encode() if v is not None else None


rsa = rsa_key("2026r._domainkey.example.org")
ed = ed_key("2026e._domainkey.example.org")
rsa_other = rsa_key("other._domainkey.example.org")
rsa_gone = rsa_key("gone._domainkey.example.org")
del zone["gone._domainkey.example.org"]
rsa_bad = rsa_key("bad._domainkey.example.org")
zone["bad._domainkey.example.org"] = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnotakey"
rsa_revoked = rsa_key("revoked._domainkey.example.org")
zone["revoked._domainkey.example.org"] = "v=DKIM1; k=rsa; p="
rsa_wrong = rsa_key("wrong._domainkey.example.org")
rsa_key("wrong._domainkey.example.org")  # the record now publishes another key
arc1 = rsa_key("arc1._domainkey.forward1.example")
arc2 = rsa_key("arc2._domainkey.forward2.example")

base = (b"Received: from client by mx.example.org\r\n"
        b"From: Ann <ann@example.org>\r\n"
        b"To: bob@example.net,\r\n  carol@example.net\r\n"
        b"Subject: a  folded\r\n  subject   line\r\n"
        b"Date: Tue, 24 Nov 2026 12:00:00 +0000\r\n"
        b"Message-ID: <1@example.org>\r\n"
        b"\r\n"
        b"Hello  Bob,\r\n\r\ntrailing spaces   \r\n\t indented\r\n\r\n\r\n")
cases = []


def sign(msg, sel, key, alg=b"rsa-sha256", canon=(b"relaxed", b"simple"), length=False):
    return dkim.sign(msg, sel.encode(), b"example.org", key, signature_algorithm=alg,
                     canonicalize=canon, length=length) + msg


def dkimpy_verify(msg, i):
    try:
        return "pass" if dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc) else "fail"
    except dkim.DKIMException:
        return "fail"


def add(name, msg):
    with open(os.path.join(out, name + ".eml"), "wb") as f:
        f.write(msg)
    n = msg.count(b"\nDKIM-Signature:") + msg.startswith(b"DKIM-Signature:")
    res = [dkimpy_verify(msg, i) for i in range(n)]
    cv, _, _ = dkim.arc_verify(msg, dnsfunc=dnsfunc)
    cases.append("%s %s %s" % (name, ",".join(res) or "-", cv.decode() if cv else "ended"))


add("rsa_relaxed_simple", sign(base, "2026r", rsa))
add("ed_relaxed_relaxed", sign(base, "2026e", ed, b"ed25519-sha256", (b"relaxed", b"relaxed")))
add("rsa_simple_simple", sign(base, "2026r", rsa, canon=(b"simple", b"simple")))
add("two_signatures", sign(sign(base, "2026r", rsa), "2026e", ed, b"ed25519-sha256"))
add("length_appended", sign(base, "2026r", rsa, length=True) + b"appended by a list\r\n")
add("body_changed", sign(base, "2026r", rsa).replace(b"Hello  Bob", b"Hello Eve"))
add("header_changed", sign(base, "2026r", rsa).replace(b"subject   line", b"other line"))
add("missing_key", sign(base, "gone", rsa_gone))
add("bad_key", sign(base, "bad", rsa_bad))
add("revoked_key", sign(base, "revoked", rsa_revoked))
add("wrong_key", sign(base, "wrong", rsa_wrong))

# x= two days ago (dkimpy 1.1.4 has no x= parameter: the tags are extended).
real_time, real_gen = time.time, dkim.DKIM.gen_header
now = int(real_time())


def gen_with_x(self, fields, include_headers, canon_policy, header_name, pk, standardize=False):
    fields = [f for f in fields if f[0] != b"t"]
    at = [f[0] for f in fields].index(b"h")
    fields[at:at] = [(b"t", b"%d" % (now - 3 * 86400)), (b"x", b"%d" % (now - 2 * 86400))]
    return real_gen(self, fields, include_headers, canon_policy, header_name, pk, standardize)


dkim.DKIM.gen_header = gen_with_x
expired = sign(base, "2026r", rsa)
dkim.DKIM.gen_header = real_gen
add("expired", expired)

# ARC: the origin signs, two forwarders seal (each first writes its own A-R).
def arc_hop(msg, sel, domain, key, srv, ar):
    msg = b"Authentication-Results: " + srv + b"; " + ar + b"\r\n" + msg
    return b"".join(dkim.arc_sign(msg, sel, domain, key, srv)) + msg


signed = sign(base, "2026r", rsa, canon=(b"relaxed", b"relaxed"))
hop1 = arc_hop(signed, b"arc1", b"forward1.example", arc1, b"mx.forward1.example",
               b"dkim=pass header.d=example.org")
add("arc_one", hop1)
hop2 = arc_hop(hop1, b"arc2", b"forward2.example", arc2, b"mx.forward2.example",
               b"dkim=pass header.d=example.org; arc=pass")
add("arc_two", hop2)
add("arc_body_changed", hop2.replace(b"Hello  Bob", b"Hello Eve"))
add("arc_seal_changed", hop2.replace(b"cv=none", b"cv=pass", 1))

with open(os.path.join(out, "zone"), "w") as f:
    for name, value in zone.items():
        f.write("%s %s\n" % (name, value))
with open(os.path.join(out, "cases"), "w") as f:
    f.write("\n".join(cases) + "\n")
