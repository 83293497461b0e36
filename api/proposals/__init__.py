"""The dealer's proposal API (DESIGN §5): `/api/v1/proposals` and `/api/v1/sellers`.

`routes` the endpoints, `deps` their services, `service` what the actions do, `schemas`
the bodies, `views` the read model as the API shows it, `in_person` face-to-face signing,
`workflow` the API's side of the proposal workflow contract.
"""
