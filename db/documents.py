"""Stored documents (PDF): content-addressed files under `Settings.documents_dir`.

The database keeps each document's SHA-256; the bytes live here, named by that digest, so
a document is written once and never changes. The worker's activities write it (the
renderers that make the PDFs are in `activities/`); the API only reads it.

A document shared by many rows (the general conditions of a kind, in one version) is also
found by a name: `name(...)` gives the digest the name points to.
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
    _ALIAS = re.compile(r"^[a-z0-9][a-z0-9-]{0,100}$")

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

    def put_named(self, name: str, data: bytes) -> str:
        """Store `data` and point `name` at it (a later version takes a new name)."""
        digest = self.put(data)
        path = self._name_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(digest)
        partial.replace(path)
        return digest

    def name(self, name: str) -> str | None:
        """The digest `name` points to, if it was stored and its document is there."""
        path = self._name_path(name)
        digest = path.read_text().strip() if path.exists() else ""
        return digest if self._NAME.match(digest) and self._path(digest).exists() else None

    def get(self, digest: str) -> bytes | None:
        if not self._NAME.match(digest):
            return None
        path = self._path(digest)
        return path.read_bytes() if path.exists() else None

    def _name_path(self, name: str) -> Path:
        if not self._ALIAS.match(name):
            raise ValueError(f"bad document name {name!r}")
        return self.root / "names" / name

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.pdf"
