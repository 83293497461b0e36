"""Inspection intake (DESIGN §5): `POST /api/v1/inspections`, with an inspector's token.

`routes` the endpoint, `service` the owner's account, the inspection, its listing and its
workflow, `schemas` the body (the report's shape is the one of docs/listings.md).
"""
