"""Redis stops mid-run: reads keep working, one-time codes fail closed with 503, and it recovers."""

import shutil
import socket
import subprocess
import time

import pytest

from backend import create_app

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_outage_fails_closed_for_codes_and_recovers(base_settings, private_redis, factory):
    app = create_app(base_settings.with_overrides(redis_url=f"redis://127.0.0.1:{private_redis.port}/0"))
    client = app.test_client()
    user = factory.user("resident")
    assert client.post("/api/v1/me/qr-codes", headers=user.headers).status_code == 201

    private_redis.stop()
    down = client.post("/api/v1/me/qr-codes", headers=user.headers)
    assert down.status_code == 503
    assert down.content_type == "application/problem+json"
    assert down.json["code"] == "dependency_unavailable" and down.json["part"] == "redis"
    assert int(down.headers["Retry-After"]) > 0
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200  # reads go on
    assert client.get("/readyz").json["part"] == "redis"
    login = client.post("/api/v1/auth/login", json={"phone": user.phone, "password": user.password})
    assert login.status_code == 200  # the rate limiter falls back to memory rather than locking people out

    private_redis.start()
    assert client.post("/api/v1/me/qr-codes", headers=user.headers).status_code == 201
    assert client.get("/readyz").status_code == 200
    app.extensions["engine"].dispose()
