"""The owner's space: the JSON API under /api/v1/owner and the French pages under /espace.

`routes` the JSON API, `pages` the pages, `deps` their services and the pages' context,
`service` the owner's listings and actions, `views` how the API shows them, `schemas` the
bodies, `auth` logging in (argon2, lockout) and password resets.
"""
