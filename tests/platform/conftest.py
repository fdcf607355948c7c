import pytest

from tests.platform.signing import KeyServer, new_rsa_key

_FORGE_KEY = new_rsa_key()
_INSTALL_KEY = new_rsa_key()
_OTHER_KEY = new_rsa_key()


@pytest.fixture(scope="session")
def _keyserver_process():
    server = KeyServer().start()
    yield server
    server.stop()


@pytest.fixture
def keyserver(_keyserver_process):
    """The key server with one Forge key (`forge-1`) and one install key (`install-1`)."""
    server = _keyserver_process
    server.forge_keys.clear()
    server.install_keys.clear()
    server.forge_keys["forge-1"] = _FORGE_KEY
    server.install_keys["install-1"] = _INSTALL_KEY
    server.jwks_requests = server.install_key_requests = 0
    server.failing = False
    return server


@pytest.fixture
def forge_key():
    return _FORGE_KEY


@pytest.fixture
def install_key():
    return _INSTALL_KEY


@pytest.fixture
def stranger_key():
    """An RSA key nobody publishes."""
    return _OTHER_KEY


@pytest.fixture
def app_config(app_config, keyserver):
    app_config["FORGE_JWKS_URL"] = keyserver.url + "/jwks.json"
    app_config["CONNECT_INSTALL_KEYS_URL"] = keyserver.url + "/install-keys"
    return app_config
