"""bot/abcjs.py against a registry served on loopback: the right release, the sha512 check."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot import abcjs

SCRIPT = b"window.ABCJS = {renderAbc: function () {}};\n"


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry():
    """A fake npm registry: yields (url, routes); routes maps a path to the bytes it serves."""
    routes: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield url, routes
    finally:
        server.shutdown()
        server.server_close()


def publish(url: str, routes: dict, versions: dict[str, bytes], lie_about: str | None = None) -> None:
    meta = {"name": "abcjs", "versions": {}}
    for version, data in versions.items():
        path = f"/abcjs/-/abcjs-{version}.tgz"
        routes[path] = data
        claimed = integrity(b"something else" if version == lie_about else data)
        meta["versions"][version] = {"dist": {"tarball": url + path, "integrity": claimed}}
    routes["/abcjs"] = json.dumps(meta).encode()


def test_installs_the_newest_6x_release_and_its_licence(registry, tmp_path):
    url, routes = registry
    good = tarball({abcjs.BUILD: SCRIPT, abcjs.LICENCE: b"MIT"})
    publish(url, routes, {
        "6.1.0": tarball({abcjs.BUILD: b"old"}),
        "6.4.1": good,
        "6.5.0-beta.1": tarball({abcjs.BUILD: b"beta"}),
        "7.0.0": tarball({abcjs.BUILD: b"next major"}),
    })
    target = tmp_path / "static" / "abcjs" / "abcjs-basic-min.js"
    assert abcjs.install(target, url) == "6.4.1"
    assert target.read_bytes() == SCRIPT
    assert (target.parent / "LICENSE.md").read_bytes() == b"MIT"
    assert sorted(p.name for p in target.parent.iterdir()) == ["LICENSE.md", "abcjs-basic-min.js"]


def test_a_download_that_fails_its_sha512_is_refused(registry, tmp_path):
    url, routes = registry
    publish(url, routes, {"6.4.1": tarball({abcjs.BUILD: SCRIPT})}, lie_about="6.4.1")
    target = tmp_path / "abcjs-basic-min.js"
    with pytest.raises(abcjs.FetchError, match="does not match its sha512"):
        abcjs.install(target, url)
    assert not target.exists()


def test_a_tarball_without_the_browser_build_is_refused(registry, tmp_path):
    url, routes = registry
    publish(url, routes, {"6.4.1": tarball({"package/README.md": b"no build here"})})
    with pytest.raises(abcjs.FetchError, match="has no package/dist/abcjs-basic-min.js"):
        abcjs.install(tmp_path / "abcjs-basic-min.js", url)
    assert list(tmp_path.iterdir()) == []


def test_a_registry_that_is_not_npm_gives_one_line(registry, tmp_path):
    url, routes = registry
    routes["/abcjs"] = b"<html>not json</html>"
    with pytest.raises(abcjs.FetchError, match="did not answer with npm package metadata"):
        abcjs.install(tmp_path / "abcjs-basic-min.js", url)
