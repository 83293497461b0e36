"""The PDF templates (Jinja2) and their versions, without the PDF engine.

The API renders some of them as HTML pages (the general conditions) and must never load
WeasyPrint (it makes PDFs in the worker only): this module is what both may import.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from carflow.formatting import PARIS

PDF_TEMPLATES = Path(__file__).parent / "templates" / "pdf"
KINDS = ("service", "insurance")


def paris_time(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S (heure de Paris)") if moment else "—"


def pdf_environment(directory: Path = PDF_TEMPLATES) -> Environment:
    """The Jinja2 environment of the PDF templates (contracts, reports): HTML is escaped and a
    missing variable is an error, never a blank in a legal document."""
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
    )
    env.filters["paris_time"] = paris_time
    return env


def conditions_template(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown product kind {kind!r}")
    return f"conditions_{kind}.html"


def conditions_version(kind: str, directory: Path = PDF_TEMPLATES) -> str:
    """The version of a kind's general conditions: the digest of their template sources, so
    editing the text (or its style) makes a new version, rendered once and kept apart."""
    digest = hashlib.sha256()
    for name in (conditions_template(kind), "_style.html"):
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()[:16]


def conditions_name(kind: str) -> str:
    """The document store's name of the current general conditions of `kind`."""
    return f"conditions-{kind}-{conditions_version(kind)}"
