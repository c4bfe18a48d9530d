"""A total quota on the outputs folder: room is held before a request writes, each request's
folder is counted when it is done, and the oldest folders go first to make room.

The hour-long age limit (service.clean_outputs) alone let a flood fill a 74 GB disk in 12
minutes; with a quota the folder's size is bounded whatever the rate of requests.

    quota = OutputsQuota(root, max_bytes=2_000_000_000)
    if not quota.make_room(20_000_000):   # before a render that writes up to 20 MB
        ...                               # refuse: everything there is still being fetched
    quota.add(folder, held=20_000_000)    # after it, with its real size

A folder counted less than `grace_s` ago is not freed: its page (or API caller) is still
fetching the files, and a 404 for audio just made is worse than a "try again in a minute".
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

DEFAULT_QUOTA_BYTES = 2_000_000_000  # 100 of the largest requests (20 MB each), thousands of usual ones
GRACE_S = 60.0  # seconds a finished request's files are kept whatever the quota
# The part of the quota one owner may hold: a browser session, or all API callers without one
# together (owner None), so a flood of /play calls cannot leave a person at the page no room.
OWNER_SHARE = 0.25


def folder_bytes(folder: Path) -> int:
    """Bytes of the files directly in `folder` (request folders hold no subfolders); 0 if gone."""
    total = 0
    try:
        for entry in Path(folder).iterdir():
            try:
                total += entry.stat().st_size
            except FileNotFoundError:
                pass
    except (FileNotFoundError, NotADirectoryError):
        return 0
    return total


class OutputsQuota:
    """Keeps the request folders under `root` within `max_bytes`, freeing the oldest first."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_QUOTA_BYTES, low_water: float = 0.9,
                 grace_s: float = GRACE_S, owner_share: float = OWNER_SHARE):
        self.root, self.max_bytes, self.grace_s, self.owner_share = Path(root), max_bytes, grace_s, owner_share
        self._target = int(max_bytes * low_water)  # freed down to this, so frees come in batches
        self._lock = threading.Lock()
        # folder -> (bytes, when counted), oldest first (insertion order)
        self._sizes: dict[Path, tuple[int, float]] = {}
        self._owners: dict[Path, object] = {}  # folder -> its owner (folders found on disk have none)
        self._held = 0  # room held by requests writing now (make_room), not yet counted
        self._held_by: dict[object, int] = {}  # owner -> the part of _held that is theirs
        self.peak = 0  # the largest total plus held room seen (for the load bench)
        self._scan()

    @property
    def total(self) -> int:
        return sum(size for size, _ in self._sizes.values())

    def _scan(self) -> None:
        folders = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                try:
                    if folder.is_dir():
                        folders.append((folder.stat().st_mtime, folder))
                except FileNotFoundError:
                    pass  # removed meanwhile
        # Found on disk: counted as written when their files were last changed.
        sizes = {folder: (folder_bytes(folder), mtime) for mtime, folder in sorted(folders)}
        with self._lock:
            self._sizes = sizes
            self._owners = {folder: owner for folder, owner in self._owners.items() if folder in sizes}
            self._free(0)

    def rescan(self) -> None:
        """Count the folder afresh from disk (after the age limit removed folders behind our back)."""
        self._scan()

    def owned(self, owner) -> int:
        """Bytes `owner` holds: its counted folders and its room held for writing."""
        return (sum(size for folder, (size, _) in self._sizes.items() if self._owners.get(folder, ...) == owner)
                + self._held_by.get(owner, 0))

    def make_room(self, nbytes: int, owner=None) -> bool:
        """Before a request writes up to `nbytes`: free the oldest folders until it fits beside
        every other request's held room, and hold it until `add`. False (nothing held) when
        only folders still in their grace period are left to free.

        Freeing after the files were written let the folder pass its quota by the renders in
        flight (121 MB against 100 in bench/render_flood.py); room held first keeps it under."""
        with self._lock:
            if self.owned(owner) + nbytes > self.max_bytes * self.owner_share:
                self._free(nbytes, only=owner)  # its own oldest first
                if self.owned(owner) + nbytes > self.max_bytes * self.owner_share:
                    return False
            self._free(nbytes)
            if self.total + self._held + nbytes > self.max_bytes:
                return False
            self._held += nbytes
            self._held_by[owner] = self._held_by.get(owner, 0) + nbytes
            self.peak = max(self.peak, self.total + self._held)
            return True

    def add(self, folder: Path, held: int = 0, owner=...) -> int:
        """Count `folder` (just finished) as `owner`'s (left out: whoever it was counted for
        before, else None), giving back the `held` room it was written in; free the oldest
        folders if over quota. Bytes freed."""
        size = folder_bytes(folder)
        with self._lock:
            if owner is ...:
                owner = self._owners.get(Path(folder))
            self._held = max(0, self._held - held)
            if held:
                self._held_by[owner] = max(0, self._held_by.get(owner, 0) - held)
            self._sizes.pop(Path(folder), None)
            self._sizes[Path(folder)] = (size, time.time())
            self._owners[Path(folder)] = owner
            return self._free(0)

    def _free(self, room: int, only=...) -> int:
        """Free the oldest folders past their grace period while the total, the held room and
        `room` pass the quota (down to the low-water mark), or, with `only`, while that owner
        passes its share; bytes freed."""
        freed = 0

        def over() -> bool:
            if only is not ...:
                return self.owned(only) + room > self.max_bytes * self.owner_share
            return self.total + self._held + room > (self._target if freed else self.max_bytes)

        if over():
            ripe = time.time() - self.grace_s
            for folder, (size, counted) in list(self._sizes.items()):
                if counted > ripe or not over():
                    break  # oldest first: the rest are younger still
                if only is not ... and self._owners.get(folder, ...) != only:
                    continue
                del self._sizes[folder]
                self._owners.pop(folder, None)
                shutil.rmtree(folder, ignore_errors=True)
                freed += size
        self.peak = max(self.peak, self.total + self._held)
        return freed
