"""`python -m sandbox.confluence --port 8200 --app-url http://127.0.0.1:8000 --install forge`."""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

from werkzeug.serving import make_server

from .demo import seed_demo
from .seed import seed
from .server import create_app
from .viewer import ADMIN_PAGES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Confluence Cloud emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--app-url", default=None, help="the app's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--install", choices=["forge", "connect", "none"], default="none")
    parser.add_argument("--manifest", default="manifest.yml" if os.path.isfile("manifest.yml") else None)
    parser.add_argument("--forge-app-id", default=os.environ.get("FORGE_APP_ID"))
    parser.add_argument("--work-id", default="1", help="Consonance work id embedded in the welcome page")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument(
        "--demo", action="store_true", help="also seed the demo pages (stage guide, rights guidance, standards, ...)"
    )
    parser.add_argument(
        "--trigger-seconds",
        type=float,
        default=None,
        help="fire the app's scheduled triggers this often instead of the manifest's interval (demos, tests)",
    )
    parser.add_argument(
        "--admin",
        action="append",
        default=None,
        metavar="ACCOUNT_ID",
        help="a site admin's account id (repeatable; default: the emulator's default user)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    config = {"FORGE_MANIFEST": args.manifest}
    if args.forge_app_id:
        config["FORGE_APP_ID"] = args.forge_app_id
    if args.admin:
        config["ADMIN_ACCOUNT_IDS"] = args.admin
    if args.trigger_seconds:
        config["SCHEDULED_TRIGGER_SECONDS"] = args.trigger_seconds
    app = create_app(config)
    emulator = app.extensions["confluence_emulator"]
    server = make_server(args.host, args.port, app, threaded=True)
    emulator.set_public_url(f"http://{args.host}:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seeded = None if args.no_seed else seed(emulator.store, args.work_id)
    if seeded and args.demo:
        seed_demo(emulator.store)
    if args.install != "none" and args.app_url:
        for attempt in range(30):  # the app may still be starting
            try:
                result = (emulator.install_forge if args.install == "forge" else emulator.install_connect)(args.app_url)
                print(f"installed ({args.install}): {result}", flush=True)
                break
            except Exception as exc:  # noqa: BLE001 - report and retry until the app answers
                if attempt == 29:
                    print(f"install failed: {exc}", flush=True)
                time.sleep(1)
    url = emulator.url + (seeded["pageUrl"] if seeded else "/")
    print(f"Confluence emulator: {url}", flush=True)
    modules = list(emulator.forge_app.admin_pages) if emulator.store.forge else []
    for key in modules:
        print(f"App settings: {emulator.url}{ADMIN_PAGES}/{key}", flush=True)
    try:
        while thread.is_alive():
            thread.join(1)
    except KeyboardInterrupt:
        emulator.stop_scheduled_triggers()
        server.shutdown()
        emulator.events.stop()


if __name__ == "__main__":
    main()
