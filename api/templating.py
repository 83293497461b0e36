"""The Jinja2 environment of the pages (French UI), shared by every route module."""

from pathlib import Path

from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
