"""ADV (after-sales staff) operations: stuck workflows, why, since when, and their retry.

`routes` the JSON API (/api/v1/adv, staff tokens), `pages` the French page /adv (a session
cookie from the staff token), `deps` the API's service, `service` what is stuck and the
retry (Temporal visibility, describe, signals, activity resets, audit), `schemas` the bodies.
"""
