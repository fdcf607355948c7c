"""The app's static files (`/static/...`: the Custom UI bundles, the Connect pages' scripts and styles), gzipped
once per file and served compressed to every browser that accepts it.

The Forge Custom UI bundle is ~98 kB (mostly @forge/bridge) and every macro frame loads it, so a page with
four macros moved ~150 KiB of static files per view uncompressed. Each file is read and compressed when first
asked for (again only when it changes on disk) and kept in memory with a strong ETag of its content; each
answer says `Vary: Accept-Encoding`, so caches keep the two encodings apart, and may be reused for
CACHE_SECONDS and revalidated by ETag (304) after, since the URLs carry no content hash.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join

EXTENSION_KEY = "addon.web.static_files"
CACHE_SECONDS = 300
COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".json", ".map", ".txt")
MIN_COMPRESS_BYTES = 512  # below this gzip's own header outweighs what it saves


@dataclass(frozen=True)
class StaticFile:
    stamp: tuple[int, int]  # (mtime ns, size): the file on disk this was read from
    content_type: str
    body: bytes
    gzipped: bytes | None  # None when not worth compressing
    etag: str  # of the content; the gzip form's differs (a strong ETag names one representation)


class StaticFiles:
    """Files under `folder` as last read, by relative path."""

    def __init__(self, folder: str):
        self.folder = folder
        self._files: dict[str, StaticFile] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> StaticFile | None:
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            found = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        stamp = (found.st_mtime_ns, found.st_size)
        known = self._files.get(filename)
        if known is not None and known.stamp == stamp:
            return known
        with open(path, "rb") as handle:
            body = handle.read()
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        gzipped = None
        if filename.endswith(COMPRESSIBLE) and len(body) >= MIN_COMPRESS_BYTES:
            gzipped = gzip.compress(body, compresslevel=9, mtime=0)
            if len(gzipped) >= len(body):
                gzipped = None
        made = StaticFile(stamp, content_type, body, gzipped, hashlib.sha256(body).hexdigest()[:32])
        with self._lock:
            self._files[filename] = made
        return made


def _static_files() -> StaticFiles:
    found = current_app.extensions.get(EXTENSION_KEY)
    if found is None:
        found = current_app.extensions.setdefault(EXTENSION_KEY, StaticFiles(current_app.static_folder or ""))
    return found


def serve(filename: str) -> Response:
    """Flask's `static` endpoint: the file, gzipped when the browser accepts gzip, with its ETag."""
    found = _static_files().get(filename)
    if found is None:
        abort(404)
    gzipped = found.gzipped is not None and request.accept_encodings["gzip"] > 0
    etag = found.etag + ("-gz" if gzipped else "")
    response = Response(status=200, content_type=found.content_type)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(etag)
    if etag in request.if_none_match:
        response.status_code = 304
        return response
    body = found.gzipped if gzipped and found.gzipped is not None else found.body
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_data(body)
    return response


def init_app(app: Flask) -> None:
    """Serve `/static/...` with `serve` instead of Flask's plain file sender."""
    app.view_functions["static"] = serve
