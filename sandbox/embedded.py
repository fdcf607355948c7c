"""`make run`: the embedded default on one machine — the app, the Consonance sandbox and the
Confluence emulator as three processes, wired to each other, seeded, ready to click.

Dev tooling only: it starts processes and passes addresses; it imports neither the app's
logic nor the sandboxes' (they meet over HTTP, as in production).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

log = logging.getLogger("sandbox.embedded")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_POLL_SECONDS = 30
# The app's admin page in the emulator, per install path (manifest.yml / atlassian-connect.json module keys).
ADMIN_PATHS = {"forge": "/wiki/admin/apps/consonance-admin", "connect": "/wiki/admin/apps/consonance-configuration"}


def wait_until_up(url: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def seeded_page_url(confluence_url: str) -> str:
    """The emulator's welcome page (all four macros for the seeded title), found on its index page."""
    try:
        with urllib.request.urlopen(f"{confluence_url}/", timeout=5) as response:
            index = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return f"{confluence_url}/"
    found = re.search(r'href="([^"]+)">Welcome to Publishing<', index)
    return urllib.parse.urljoin(f"{confluence_url}/", found.group(1)) if found else f"{confluence_url}/"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="the app")
    parser.add_argument("--consonance-port", type=int, default=8100)
    parser.add_argument("--confluence-port", type=int, default=8200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=500, help="works in the seeded catalogue")
    parser.add_argument("--install", choices=["forge", "connect"], default="forge")
    parser.add_argument("--no-demo", action="store_true", help="only the welcome page; no demo pages or configuration")
    parser.add_argument(
        "--trigger-seconds",
        type=float,
        default=None,
        help="fire Forge's scheduled trigger this often (default: the manifest's interval, as Forge does)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    app_url = f"http://{args.host}:{args.port}"
    consonance_url = f"http://{args.host}:{args.consonance_port}"
    confluence_url = f"http://{args.host}:{args.confluence_port}"
    python = sys.executable
    env = {
        # The demo polls Consonance every 30 s unless told otherwise (production's default is 300 s).
        "POLL_INTERVAL_SECONDS": str(DEMO_POLL_SECONDS),
        **os.environ,
        "BASE_URL": os.environ.get("BASE_URL", app_url),
        "FORGE_JWKS_URL": f"{confluence_url}/.well-known/jwks.json",
        "CONNECT_INSTALL_KEYS_URL": f"{confluence_url}/install-keys",
        "CONSONANCE_SANDBOX_URL": consonance_url,
        # The sandbox listens on loopback over http: the one address the key may go to that way.
        "CONSONANCE_ALLOWED_HOSTS": os.environ.get("CONSONANCE_ALLOWED_HOSTS", f"{args.host}:{args.consonance_port}"),
        "FLASK_APP": "addon:create_app",
    }
    subprocess.run([python, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True)

    processes: list[subprocess.Popen] = []

    def start(name: str, command: list[str]) -> None:
        log.info("starting %s: %s", name, " ".join(command))
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env))

    if importlib.util.find_spec("sandbox.consonance.__main__"):
        start(
            "Consonance sandbox",
            [
                python,
                "-m",
                "sandbox.consonance",
                "--host",
                args.host,
                "--port",
                str(args.consonance_port),
                "--seed",
                str(args.seed),
                "--size",
                str(args.size),
            ],
        )
    # One process: the embedded default's in-process jobs and cache live in it.
    start(
        "app",
        [
            python,
            "-m",
            "gunicorn",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--access-logfile",
            "-",
            "addon.wsgi:app",
        ],
    )
    if not wait_until_up(f"{app_url}/healthz"):
        log.error("the app did not come up on %s", app_url)
        return stop(processes, 1)
    open_url = f"{app_url}/healthz"
    if importlib.util.find_spec("sandbox.confluence.__main__"):
        start(
            "Confluence emulator",
            [
                python,
                "-m",
                "sandbox.confluence",
                "--host",
                args.host,
                "--port",
                str(args.confluence_port),
                "--app-url",
                app_url,
                "--install",
                args.install,
                *([] if args.no_demo else ["--demo"]),
                *(["--trigger-seconds", str(args.trigger_seconds)] if args.trigger_seconds else []),
            ],
        )
        if wait_until_up(f"{confluence_url}/"):
            open_url = seeded_page_url(confluence_url)
            api_key = os.environ.get("CONSONANCE_SANDBOX_KEY", "sandbox-api-key")
            if args.no_demo:
                # The emulator's install made the tenant; point it at the Consonance sandbox.
                command = ["tenants", "connect-consonance", "--host", consonance_url, "--api-key", api_key]
            else:  # the app's own configuration service and onboarding, as an admin would use them
                log.info("setting up the demo site (configuration, first sync, a few titles' page sets)")
                command = ["demo", "set-up", "--site", confluence_url, "--title", "1"]
                command += ["--consonance-host", consonance_url, "--api-key", api_key]
                if os.environ.get("CONSONANCE_CATALOGUE", "").lower() == "golden":
                    command.append("--built-in-standards")  # docs/golden-catalogue.md's figures assume them
            subprocess.run([python, "-m", "flask", *command], cwd=ROOT, env=env, check=False)
    print(
        f"\nConsonance for Confluence is running. Open {open_url}\n"
        f"  the site's pages: {confluence_url}/   the app's settings: {confluence_url}{ADMIN_PATHS[args.install]}\n"
        f"  acquire a title: curl -X POST {consonance_url}/_sandbox/works/acquire -H 'Content-Type: application/json'"
        ' -d \'{"title": "My New Title"}\'\n'
        "(Ctrl-C stops everything)\n",
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        log.error("a process stopped; stopping the rest")
        return stop(processes, 1)
    except KeyboardInterrupt:
        return stop(processes, 0)


def stop(processes: list[subprocess.Popen], code: int) -> int:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
