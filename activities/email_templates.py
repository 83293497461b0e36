"""French email templates: `<name>.subject.txt`, `<name>.txt` and `<name>.html` each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

TEMPLATES_DIR = Path(__file__).parent / "templates" / "email"


class UnknownTemplate(LookupError):
    pass


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        # StrictUndefined: a missing variable fails the render instead of mailing a blank.
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: dict[str, Any]) -> RenderedEmail:
        try:
            subject = self.env.get_template(f"{name}.subject.txt").render(context)
            text = self.env.get_template(f"{name}.txt").render(context)
            html = self.env.get_template(f"{name}.html").render(context)
        except TemplateNotFound as exc:
            raise UnknownTemplate(f"no email template {name!r} ({exc.name} missing)") from None
        return RenderedEmail(" ".join(subject.split()), text, html)
