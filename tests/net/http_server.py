"""Test HTTP/1.1 server for tests/net (keep-alive, unlike http.server's
default HTTP/1.0), so that tests can tell whether a second request on one
connection was served.  usage: http_server.py DIR PORT"""
import functools
import http.server
import sys

d, port = sys.argv[1], int(sys.argv[2])


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"


srv = http.server.ThreadingHTTPServer(("0.0.0.0", port), functools.partial(Handler, directory=d))
srv.serve_forever()
