"""The buyer's signing flow, reached by the unguessable token of the emailed link.

`pages` the French pages under /p/{token}, `routes` the same steps as JSON under
/api/v1/buyer/{token}, `deps` their service, `service` what each step does, `schemas`
the JSON bodies, `webhook` the DocuSign Connect callback that ends a provider signing.
"""
