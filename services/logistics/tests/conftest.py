import threading

import pytest
from werkzeug.serving import make_server

from logistics.app import create_app
from logistics.config import LogisticsConfig
from mall_shared.testing import migrated_database


@pytest.fixture(scope="session")
def app(keys, tmp_path_factory):
    # A real HTTP server for the app, so the sandbox carrier pushes to the webhook over HTTP.
    with migrated_database("logistics") as url:
        cfg = LogisticsConfig(sandbox=True, keys_dir=tmp_path_factory.mktemp("carrier-keys"),
                              carrier_keys={"sf": "sf-test-key"})
        app = create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": keys.public, "TESTING": True,
                          "LOGISTICS_CONFIG": cfg})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        app.extensions["logistics_config"] = LogisticsConfig(**{**cfg.__dict__,
                                                                "url": f"http://127.0.0.1:{server.server_port}"})
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield app
        server.shutdown()
        app.extensions["mall_db"].dispose()
