#!/usr/bin/env python3
# tlsrpt-post.py CERT KEY PORT DIR: an HTTPS server on 127.0.0.1:PORT for tlsrpt-deliver.sh.
# A POST to /upload is kept as DIR/N.body (and DIR/N.type, its Content-Type) and answered 201;
# a POST to /fail is counted in DIR/failed and answered 500; anything else 404.
import http.server
import os
import ssl
import sys

cert, key, port, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/upload":
            n = len([f for f in os.listdir(out) if f.endswith(".body")]) + 1
            with open(os.path.join(out, "%d.type" % n), "w") as f:
                f.write(self.headers.get("Content-Type", ""))
            with open(os.path.join(out, "%d.body" % n), "wb") as f:
                f.write(body)
            self.send_response(201)
        elif self.path == "/fail":
            with open(os.path.join(out, "failed"), "a") as f:
                f.write("x\n")
            self.send_response(500)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write(fmt % args + "\n")


srv = http.server.HTTPServer(("127.0.0.1", port), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
