"""The smallest WSGI app, for tests of the Procfile's web server itself rather than of our views."""

from __future__ import annotations


def app(environ, start_response):
    body = b"served"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
