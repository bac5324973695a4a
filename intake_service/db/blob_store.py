"""Content-addressed file store on a local (or shared) directory: ``<root>/<ab>/<sha256>``.

Bytes are streamed into a temporary file beside the final ones, flushed to disk, then renamed
into place, so a crash leaves at most a ``.incoming-*`` file and never a partial blob under a
real name. The same content is kept once, whoever uploads it and however often.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

CHUNK_BYTES = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
INCOMING_PREFIX = ".incoming-"


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"blob larger than {limit} bytes")
        self.limit = limit


class BlobMissing(Exception):
    """The database names a blob the directory does not hold."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    # False when identical bytes were already stored.
    created: bool


class BlobStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    async def put(self, chunks: AsyncIterable[bytes]) -> StoredBlob:
        """Store the streamed bytes; raises :class:`BlobTooLarge` as soon as the limit is passed,
        leaving nothing behind."""
        await anyio.to_thread.run_sync(lambda: self.root.mkdir(parents=True, exist_ok=True))
        fd, name = await anyio.to_thread.run_sync(
            lambda: tempfile.mkstemp(prefix=INCOMING_PREFIX, dir=self.root)
        )
        incoming = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            async with await anyio.open_file(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise BlobTooLarge(self.max_bytes)
                    digest.update(chunk)
                    await out.write(chunk)
                await out.flush()
                await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
            sha256 = digest.hexdigest()
            created = await anyio.to_thread.run_sync(self._settle, incoming, sha256)
        except BaseException:
            # Shielded: a cancelled upload must still clean up after itself.
            with anyio.CancelScope(shield=True), contextlib.suppress(OSError):
                await anyio.Path(incoming).unlink(missing_ok=True)
            raise
        return StoredBlob(sha256, size, created)

    def _settle(self, incoming: Path, sha256: str) -> bool:
        final = self.path_of(sha256)
        final.parent.mkdir(exist_ok=True)
        if final.exists():
            incoming.unlink()
            return False
        # Two uploads of the same bytes may race here; replacing identical content is harmless.
        os.replace(incoming, final)
        _fsync_directory(final.parent)
        return True

    async def exists(self, sha256: str) -> bool:
        return await anyio.Path(self.path_of(sha256)).is_file()

    async def read(self, sha256: str, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks; opened before the first chunk is asked for, so a missing
        file is reported before a response starts."""
        try:
            handle = await anyio.open_file(self.path_of(sha256), "rb")
        except FileNotFoundError as exc:
            raise BlobMissing(sha256) from exc
        return _chunks(handle, chunk_bytes)


async def _chunks(handle: anyio.AsyncFile[bytes], chunk_bytes: int) -> AsyncIterator[bytes]:
    async with handle:
        while chunk := await handle.read(chunk_bytes):
            yield chunk


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
