"""Finished exports waiting for their download, each behind an unguessable one-time token.

An export can be hundreds of megabytes: the page writes it to a temporary file (showing its
progress) and hands the browser a link to `/exports/{token}`, which streams the file from
disk. Only a signed-in member of staff can run an export, so holding a token is the
permission to download it: 256 random bits, good for one download within LIFETIME. The file
is deleted once downloaded, and an unclaimed one when it expires.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

LIFETIME = 15 * 60  # seconds a link stays good


@dataclass(frozen=True)
class ExportFile:
    path: Path
    file_name: str
    mime: str
    expires: float


class ExportFiles:
    """The process's waiting exports; the page adds them, the download route takes them."""

    def __init__(self, *, lifetime: float = LIFETIME, clock: Callable[[], float] = time.monotonic):
        self._lifetime = lifetime
        self._clock = clock
        self._files: dict[str, ExportFile] = {}
        self._lock = threading.Lock()
        self._folder: Path | None = None

    def write(self, fill: Callable[[BinaryIO], object], *, file_name: str, mime: str) -> str:
        """Run `fill` on a new temporary file and return the token that downloads it."""
        self.sweep()
        descriptor, name = tempfile.mkstemp(dir=self.folder())
        path = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                fill(handle)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._files[token] = ExportFile(path, file_name, mime, self._clock() + self._lifetime)
        return token

    def take(self, token: str) -> ExportFile | None:
        """The export behind `token`, once: None when unknown, already taken or expired.

        The caller deletes the file when it has sent it.
        """
        self.sweep()
        with self._lock:
            return self._files.pop(token, None)

    def sweep(self) -> None:
        """Forget and delete what has expired unclaimed."""
        now = self._clock()
        with self._lock:
            expired = [t for t, f in self._files.items() if f.expires <= now]
            gone = [self._files.pop(t) for t in expired]
        for found in gone:
            found.path.unlink(missing_ok=True)

    def folder(self) -> Path:
        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="order-exports-"))
            return self._folder
