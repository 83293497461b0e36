"""Stored documents (PDF): content-addressed files under `Settings.documents_dir`.

The database keeps each document's SHA-256; the bytes live here, named by that digest, so
a document is written once and never changes. The API and the activities both read and
write it; the renderers that make the PDFs are in `activities/`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DocumentStore:
    """Content-addressed PDF files under one folder: the name is the SHA-256 of the bytes."""

    _NAME = re.compile(r"^[0-9a-f]{64}$")

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)  # atomic: a reader never sees half a file
        return digest

    def get(self, digest: str) -> bytes | None:
        if not self._NAME.match(digest):
            return None
        path = self._path(digest)
        return path.read_bytes() if path.exists() else None

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.pdf"
