"""The listing side of the API (issue 6): intake, the owner's space, public listings.

`schemas` holds the bodies, `workflow` the API's side of the listing workflow contract,
`intake` creates an inspection's rows and starts its workflow, `views` reads the read model.
"""
