"""`python -m sandbox.consonance --port 8100 --seed 42 --size 500`: run the sandbox as its own process.

It is served the way a hosted API is: HTTP/1.1 with persistent connections (gunicorn, threads in one
process, since the catalogue, its counters and its faults live in that process). Werkzeug's development
server closes every connection, which no real Consonance does, and would make every client pay a new TCP
connection per request.
"""

from __future__ import annotations

import argparse
import gc
import logging

from gunicorn.app.base import BaseApplication

from . import profiles
from .server import DEFAULT_API_KEY, create_app

KEEPALIVE_SECONDS = 60  # how long an idle connection stays open, as behind a typical hosted API's balancer


class _SandboxServer(BaseApplication):
    """Gunicorn around the already-built sandbox app: one worker (the state is in-process), many threads."""

    def __init__(self, application, options: dict, description: str):
        self._application = application
        self._options = options
        self.description = description  # what the announcement says it serves
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self):
        return self._application


def _announce(arbiter) -> None:
    """Print the URL once the socket is bound (so `--port 0` tells the caller which port it got)."""
    host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
    print(f"Consonance sandbox at http://{host}:{port}/graphql ({arbiter.app.description})", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Consonance GraphQL sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=16, help="requests served at once")
    parser.add_argument(
        "--api-key", action="append", dest="api_keys", help=f"accepted API key (repeatable; default {DEFAULT_API_KEY})"
    )
    parser.add_argument(
        "--catalogue",
        choices=("seeded", "golden"),
        default=None,
        help="seeded (generated from --seed and --size; default) or golden (the 25 titles of docs/golden-catalogue.md)",
    )
    parser.add_argument(
        "--profile",
        default="full",
        choices=profiles.PROFILES,
        help="which Consonance to pretend to be: full (every assumption), documented-only, introspection-refused, "
        "cursor, other-names",
    )
    parser.add_argument("--anchor", help="date the catalogue is generated around (default: first of this month)")
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every HTTP request (off by default: GET /_sandbox/requests has them)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(
        {
            "SEED": args.seed,
            "SIZE": args.size,
            "ANCHOR": args.anchor,
            "API_KEYS": args.api_keys or [DEFAULT_API_KEY],
            "CATALOGUE": args.catalogue,
            "PROFILE": args.profile,
        }
    )
    # The catalogue is built once and lives as long as the process: moved out of the collector's sight, a full
    # collection no longer walks every work in it (at 20,000 works that was a pause of a few hundred ms).
    gc.freeze()
    server = _SandboxServer(
        app,
        {
            "bind": f"{args.host}:{args.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": args.threads,
            "keepalive": KEEPALIVE_SECONDS,
            "timeout": 0,  # a fault may hang a request on purpose; the worker must not be killed for it
            "graceful_timeout": 2,
            "control_socket_disable": True,
            "loglevel": "warning",
            "accesslog": "-" if args.access_log else None,
            "when_ready": _announce,
        },
        f"seed {args.seed}, {args.size} works",
    )
    server.run()


if __name__ == "__main__":
    main()
