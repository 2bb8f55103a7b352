#!/usr/bin/python3
"""av-mkmsgs.py DIR EICAR_FILE: write the test messages for test_av_clamd into DIR.

Headers are written the way Postfix hands them to a milter: `Name:value` with no space
after the colon (doc/protocols.md, "Header fields as Postfix passes them"); milter-av must rebuild them as `Name: value`.
Line ends are CRLF. The EICAR string is read from EICAR_FILE (made by the harness), so
this file never contains it.
"""
import base64
import io
import os
import sys
import zipfile

out, eicar_path = sys.argv[1], sys.argv[2]
eicar = open(eicar_path, "rb").read()
os.makedirs(out, exist_ok=True)


def headers(extra=()):
    h = [("From", "sender@example.org"), ("To", "rcpt@example.net"),
         ("Subject", "test message"), ("Date", "Mon, 23 Nov 2026 10:00:00 +0000"),
         ("Message-ID", "<t@example.org>"), ("MIME-Version", "1.0")]
    h += list(extra)
    return b"".join(f"{k}:{v}\r\n".encode() for k, v in h)


def write(name, hdrs, body):
    with open(os.path.join(out, name), "wb") as f:
        f.write(hdrs + b"\r\n" + body)


def text_lines(n_bytes, seed=0):
    line = b"The quick brown fox jumps over the lazy dog %08d 0123456789abcdef\r\n"
    lines, size, i = [], 0, seed
    while size < n_bytes:
        l = line.replace(b"%08d", b"%08d" % i)
        lines.append(l)
        size += len(l)
        i += 1
    return b"".join(lines)


# plain: EICAR as the whole body
write("eicar-plain.eml", headers([("Content-Type", "text/plain")]), eicar + b"\r\n")

# clean text
write("clean.eml", headers([("Content-Type", "text/plain")]), text_lines(3000))


def attach(payload, fname, ctype):
    b = "BOUNDARY42"
    body = (f"--{b}\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
            f"--{b}\r\nContent-Type: {ctype}; name=\"{fname}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename=\"{fname}\"\r\n\r\n").encode()
    enc = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    body += enc + f"--{b}--\r\n".encode()
    return headers([("Content-Type", f'multipart/mixed;\n\tboundary="{b}"')]), body


# EICAR as a base64 attachment (the Content-Type header is folded, as Postfix gives it)
write("eicar-b64.eml", *attach(eicar, "eicar.com", "application/octet-stream"))

# EICAR inside a zip, attached
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("readme.txt", "nothing to see\n")
    z.writestr("eicar.com", eicar)
write("eicar-zip.eml", *attach(zbuf.getvalue(), "files.zip", "application/zip"))

# EICAR past the first 512 KiB of a ~2 MB message (at ~1.5 MB)
big = text_lines(1536 * 1024)
write("eicar-late.eml", headers([("Content-Type", "text/plain")]),
      big + eicar + b"\r\n" + text_lines(512 * 1024, 99999))

# ~2 MB clean message
write("clean-2m.eml", headers([("Content-Type", "text/plain")]), text_lines(2 * 1024 * 1024))
