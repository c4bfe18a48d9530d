"""Get abcjs (the score widget's engine) from the npm registry, with no npm or Node needed.

    python -m bot.abcjs            # installs static/abcjs/abcjs-basic-min.js if it is missing

A fresh machine or a Hugging Face Space has Python and the package registries but often no
npm, so this reads the registry's JSON, downloads the release tarball, checks it against the
registry's sha512 `integrity`, and takes two files out of it: the minified browser build and
the licence. The page serves them itself, never from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
PACKAGE = "abcjs"
MAJOR = 6  # the major version the page's script is written for
BUILD = "package/dist/abcjs-basic-min.js"  # inside the npm tarball
LICENCE = "package/LICENSE.md"
TIMEOUT_S = 60
MAX_TARBALL_BYTES = 64 * 2**20  # abcjs 6 is about 5 MB; anything far larger is not it


class FetchError(RuntimeError):
    """abcjs could not be fetched or did not check out; the message is one line."""


@dataclass(frozen=True)
class Release:
    version: str
    tarball: str  # URL
    integrity: str  # "sha512-<base64>"


def _get(url: str, limit: int) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            data = response.read(limit + 1)
    except (urllib.error.URLError, OSError) as err:
        raise FetchError(f"cannot reach {url}: {getattr(err, 'reason', err)}") from None
    if len(data) > limit:
        raise FetchError(f"{url} is larger than {limit // 2**20} MB")
    return data


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return ()  # pre-releases ("6.5.0-beta.1") never sort above a release


def latest_release(registry: str = REGISTRY) -> Release:
    """The newest abcjs 6.x.y release the registry lists."""
    try:
        meta = json.loads(_get(f"{registry}/{PACKAGE}", 32 * 2**20))
        versions = meta["versions"]
    except (ValueError, KeyError, TypeError):
        raise FetchError(f"{registry} did not answer with npm package metadata") from None
    keys = {version: _version_key(version) for version in versions}
    releases = [version for version, key in keys.items() if len(key) == 3 and key[0] == MAJOR]
    if not releases:
        raise FetchError(f"{registry} lists no {PACKAGE} {MAJOR}.x release")
    version = max(releases, key=keys.__getitem__)
    dist = versions[version].get("dist", {})
    if not str(dist.get("integrity", "")).startswith("sha512-") or not dist.get("tarball"):
        raise FetchError(f"{PACKAGE} {version} has no sha512 integrity to check the download against")
    return Release(version, dist["tarball"], dist["integrity"])


def verified_tarball(release: Release) -> bytes:
    """The release's tarball, refused unless its sha512 matches the registry's integrity."""
    data = _get(release.tarball, MAX_TARBALL_BYTES)
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if f"sha512-{digest}" != release.integrity:
        raise FetchError(f"{PACKAGE} {release.version}: the download does not match its sha512 integrity")
    return data


def install(target: Path, registry: str = REGISTRY) -> str:
    """Fetch, check and write the abcjs browser build to `target` (licence beside it); the version."""
    release = latest_release(registry)
    data = verified_tarball(release)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            # Only named members are read, so no path in the archive decides where we write.
            build = tar.extractfile(BUILD)
            script = build.read() if build is not None else None
            licence_member = tar.extractfile(LICENCE) if LICENCE in tar.getnames() else None
            licence = licence_member.read() if licence_member is not None else None
    except (tarfile.TarError, KeyError, OSError):
        raise FetchError(f"{PACKAGE} {release.version}: the tarball has no {BUILD}") from None
    if not script:
        raise FetchError(f"{PACKAGE} {release.version}: {BUILD} is empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(script)
    partial.replace(target)  # never a half-written script for the page to load
    if licence:
        (target.parent / "LICENSE.md").write_bytes(licence)
    return release.version


STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ABCJS_FILE = STATIC_DIR / "abcjs" / "abcjs-basic-min.js"

NO_SCORE_NOTICE = (
    "Sheet music is unavailable on this server: abcjs could not be fetched from the npm "
    "registry (run `bash scripts/setup.sh` where the registry can be reached). Tunes still "
    "stream and play."
)


def ensure_abcjs(path: Path = ABCJS_FILE, registry: str = REGISTRY) -> str | None:
    """Make sure abcjs is on disk, fetching it from the npm registry when missing.

    Returns None when the file is there, else a one-line notice for the page.
    """
    if path.is_file():
        return None
    try:
        version = install(path, registry)
    except FetchError as err:
        print(f"abcjs: {err}")
        return NO_SCORE_NOTICE
    print(f"abcjs: installed {PACKAGE} {version} into {path.parent}")
    return None


def main(argv: list[str] | None = None) -> int:
    """Install abcjs where the page looks for it, unless it is already there."""
    return 1 if ensure_abcjs() else 0


if __name__ == "__main__":
    sys.exit(main())
