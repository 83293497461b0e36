"""Browser-facing security of the owner space, the dealer app and the public forms.

* `sessions`: the owner's server-side session behind an opaque cookie (the dealer users'
  are api/dealer_app/sessions.py, the same design);
* `csrf`: a token on every form, and an Origin/content-type check on the JSON API;
* `rate_limit`: fixed-window counters in the database, shared by every API replica;
* `passwords`: logging in with email and password (argon2, lockout after repeated
  failures, no account enumeration) and the new-password rules, for owners and dealer users.

Password reset links are each space's: api/owners/auth.py, api/dealer_app/users.py.
"""
