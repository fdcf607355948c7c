"""`python -m sandbox.consonance --port 8100 --seed 42 --size 500`: run the sandbox as its own process."""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import make_server

from . import profiles
from .server import DEFAULT_API_KEY, create_app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Consonance GraphQL sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=500)
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
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.access_log else logging.WARNING)
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
    server = make_server(args.host, args.port, app, threaded=True)
    print(
        f"Consonance sandbox at http://{args.host}:{server.server_port}/graphql (seed {args.seed}, {args.size} works)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
