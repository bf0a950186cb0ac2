"""The /v/ page renders in headless Chromium at a phone's width and shows the verdict.

Chromium (Debian package ``chromium``, plus a CJK font so the screenshot is readable) is installed by this setup when missing; outside CI
the test is skipped if it cannot be installed. The screenshot lands in tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from backend.config import PROJECT_ROOT
from tests.commitments.conftest import signed

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
_install_lock = threading.Lock()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _has_cjk_font() -> bool:
    try:
        listing = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(listing.strip())


def _ensure_chromium() -> str:
    with _install_lock:
        found = _chromium()
        if found and _has_cjk_font():
            return found
        in_ci = bool(os.environ.get("CI"))
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium", "fonts-wqy-microhei"]):
                subprocess.run(command, check=True, capture_output=True, timeout=900, env=env)
        except (OSError, subprocess.SubprocessError) as exc:
            if in_ci:
                pytest.fail(f"could not install chromium: {exc}")
            pytest.skip(f"chromium missing and could not be installed outside CI: {exc}")
        found = _chromium()
        if found is None:
            if in_ci:
                pytest.fail("chromium not on PATH after apt-get install")
            pytest.skip("chromium not on PATH after apt-get install")
        return found


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _run(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,844",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_verification_page_renders_the_verdict_at_390px(app, client, factory, desk, live_server, tmp_path):
    chromium = _ensure_chromium()
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    url = f"{live_server}/v/{commitment['public_id']}"

    dom = _run(chromium, tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    verdict = re.search(r'<section class="verdict ok"[^>]*>\s*<h1>([^<]*)</h1>', dom.stdout)
    assert verdict is not None and verdict.group(1) == "真实有效"
    assert "承诺内容" in dom.stdout

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "commitment-verify-390.png"
    screenshot.unlink(missing_ok=True)
    shot = _run(chromium, tmp_path, f"--screenshot={screenshot}", url)
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (390, 844)


def test_the_page_of_an_unknown_id_says_verification_failed(app, live_server, tmp_path):
    chromium = _ensure_chromium()
    dom = _run(chromium, tmp_path, "--dump-dom", f"{live_server}/v/ABCDEFGHJKMNPQRS")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert re.search(r'<section class="verdict bad"[^>]*>\s*<h1>验证失败</h1>', dom.stdout)
