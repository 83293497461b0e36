"""Browser-facing security of the owner space and the public forms.

* `sessions`: the owner's session cookie, signed with CARFLOW_SECRET_KEY (itsdangerous);
* `csrf`: a token on every form, and an Origin/content-type check on the JSON API;
* `rate_limit`: fixed-window counters in the database, shared by every API replica.

Logging in (argon2, lockout after repeated failures) and password resets are the owner
space's: api/owners/auth.py.
"""
