"""Public listings and the shareable report, and the listing read model the owner space shares.

`routes` the public JSON API (/api/v1/listings), `pages` the public site (/annonces) and the
report (/r/{token}), `service` the read-model queries, the contact form and the report PDF,
`views` how a listing is shown, `schemas` the bodies and the listing side's field types,
`workflow` the API's side of the listing workflow contract, `deps` its client.
"""
