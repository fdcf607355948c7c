"""A WSGI app for `test_macro_lane`: an answer whose `AnsweredThen` job takes a second, so a test can see whether
the production server (granian, the Procfile's) sends the answer before it runs what a view left for after."""

from __future__ import annotations

import time

from addon.web.macro_lane import AnsweredThen

JOB_SECONDS = 1.0


def app(environ, start_response):
    body = b"answered"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return AnsweredThen([body], lambda: time.sleep(JOB_SECONDS))
