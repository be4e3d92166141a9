"""Test HTTPS server for tests/net: serves a directory over TLS with a
certificate from the test's own CA.  usage: https_server.py DIR CERT KEY PORT"""
import functools
import http.server
import ssl
import sys

d, cert, key, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
srv = http.server.ThreadingHTTPServer(("0.0.0.0", port), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
