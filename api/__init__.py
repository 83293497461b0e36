"""HTTP side of Carflow: the dealer/buyer/owner/ADV API and pages."""

from api.app import create_app

__all__ = ["create_app"]
