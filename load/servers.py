"""The two sandboxes as their own processes, with the knobs the suites need that the sandboxes' own
CLIs do not expose (a request log big enough to count every call of a run, fast event retries).

    python -m load.servers consonance --port P --size N [--log-size 200000]
    python -m load.servers confluence --port P --forge-app-id ID [--event-retry-base 0.5]
"""

from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import make_server

ROOT_MANIFEST = "manifest.yml"


def _consonance_app(args):
    from sandbox.consonance.server import DEFAULT_API_KEY, create_app

    return create_app(
        {
            "SEED": args.seed,
            "SIZE": args.size,
            "ANCHOR": args.anchor,
            "API_KEYS": [DEFAULT_API_KEY],
            "REQUEST_LOG_SIZE": args.log_size,
        }
    )


def _confluence_app(args):
    from sandbox.confluence.server import create_app

    app = create_app(
        {
            "FORGE_APP_ID": args.forge_app_id,
            "FORGE_MANIFEST": ROOT_MANIFEST,
            "EVENT_RETRY_BASE_SECONDS": args.event_retry_base,
        }
    )
    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["consonance", "confluence"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--anchor", default="2026-11-01")
    parser.add_argument("--log-size", type=int, default=200_000)
    parser.add_argument("--forge-app-id", default="ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000")
    parser.add_argument("--event-retry-base", type=float, default=0.5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = _consonance_app(args) if args.which == "consonance" else _confluence_app(args)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    if args.which == "confluence":
        app.extensions["confluence_emulator"].set_public_url(f"http://127.0.0.1:{server.server_port}")
    print(f"{args.which} at http://127.0.0.1:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
