"""Per-app singletons the platform needs (secret box, key caches), kept on `app.extensions`."""
from flask import Flask, current_app

from addon.platform.crypto import SecretBox

EXTENSION_KEY = "addon.platform"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = {"secret_box": SecretBox(app.config["ENCRYPTION_KEYS"])}


def platform_services() -> dict:
    return current_app.extensions[EXTENSION_KEY]


def secret_box() -> SecretBox:
    return platform_services()["secret_box"]
