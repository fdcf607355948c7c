"""A stub Confluence answering the few v1/v2 calls the admin pages make, shaped as the OpenAPI specs say.

The emulator does not model users yet, so site-admin checks are tested against this: v1
`GET /user/current?expand=operations` (Forge user token) and `GET /user?accountId=&expand=operations`
(Connect app JWT) answer a `User` whose `operations` hold `administer`/`application` for admins.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from flask import Flask, abort, jsonify, request
from werkzeug.serving import make_server

ADMIN_OPERATIONS = [
    {"operation": "administer", "targetType": "application"},
    {"operation": "use", "targetType": "application"},
    {"operation": "create_space", "targetType": "application"},
]
USER_OPERATIONS = [{"operation": "use", "targetType": "application"}]


@dataclass
class StubConfluence:
    admins: set = field(default_factory=set)
    user_tokens: dict = field(default_factory=dict)  # Forge user token -> account id
    spaces: list = field(
        default_factory=lambda: [
            {"id": "98", "key": "PUB", "name": "Publishing", "type": "global", "status": "current"},
            {"id": "99", "key": "MKT", "name": "Marketing", "type": "global", "status": "current"},
        ]
    )
    pages: list = field(
        default_factory=lambda: [
            {"id": "1001", "title": "Stage guide", "space": "PUB"},
            {"id": "1002", "title": "Metadata standards", "space": "PUB"},
            {"id": "1003", "title": "Print playbook", "space": "PUB"},
            {"id": "1004", "title": "Audio playbook", "space": "MKT"},
            {"id": "1005", "title": "Pipeline summaries", "space": "PUB"},
        ]
    )
    failing_users: bool = False
    calls: list = field(default_factory=list)

    def _user(self, account_id: str):
        operations = ADMIN_OPERATIONS if account_id in self.admins else USER_OPERATIONS
        return {
            "type": "known",
            "accountId": account_id,
            "accountType": "atlassian",
            "email": "",
            "publicName": f"User {account_id[-4:]}",
            "displayName": f"User {account_id[-4:]}",
            "operations": operations,
            "_links": {"self": f"/wiki/rest/api/user?accountId={account_id}"},
        }

    def start(self):
        app = Flask("stub-confluence")

        @app.before_request
        def _log_and_authenticate():
            self.calls.append((request.method, request.full_path, request.headers.get("Authorization", "")))
            header = request.headers.get("Authorization", "")
            if not (header.startswith("Bearer ") or header.startswith("JWT ")):
                abort(401)
            if self.failing_users and "/rest/api/user" in request.path:
                abort(503)

        @app.get("/wiki/rest/api/user/current")
        def current_user():
            token = request.headers["Authorization"].removeprefix("Bearer ").strip()
            if token not in self.user_tokens:
                abort(401)
            return jsonify(self._user(self.user_tokens[token]))

        @app.get("/wiki/rest/api/user")
        def user():
            return jsonify(self._user(request.args["accountId"]))

        @app.get("/wiki/api/v2/spaces")
        def spaces():
            keys = request.args.getlist("keys")
            found = [s for s in self.spaces if not keys or s["key"] in keys]
            return jsonify(results=found, _links={})

        @app.get("/wiki/rest/api/search")
        def search():
            cql = request.args["cql"]
            found = list(self.pages)
            ids = re.search(r"id in \(([^)]*)\)", cql)
            if ids:
                wanted = {i.strip() for i in ids.group(1).split(",")}
                found = [p for p in found if p["id"] in wanted]
            title = re.search(r'title ~ "([^"]*)"', cql)
            if title:
                # Confluence's `~` is a word search; a trailing `*` makes the last word a prefix.
                words = title.group(1).lower().rstrip("*").split()
                found = [p for p in found if all(w in p["title"].lower() for w in words)]
            space = re.search(r'space = "([^"]*)"', cql)
            if space:
                found = [p for p in found if p["space"] == space.group(1)]
            results = [
                {
                    "content": {
                        "id": p["id"],
                        "type": "page",
                        "status": "current",
                        "title": p["title"],
                        "space": {"key": p["space"]},
                    },
                    "title": p["title"],
                    "url": f"/spaces/{p['space']}/pages/{p['id']}",
                    "entityType": "content",
                }
                for p in found
            ]
            return jsonify(results=results, start=0, limit=50, size=len(results), totalSize=len(results), _links={})

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)
