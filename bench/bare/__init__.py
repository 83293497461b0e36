"""A bare-Temporal baseline for `make bench`: the same lifecycle with nothing of Carflow's around it.

Driven over HTTP, not by direct Temporal client calls: the fairest comparison has Carflow's
shape (HTTP API -> Temporal update), so the HTTP layer is compared too and the difference
measured is Carflow's own cost. An HTTP API (FastAPI, `bench/bare/api.py`) starts a
workflow and drives it with Temporal updates (create then `send_to_buyer`, `view`,
`accept`, `sign`, on the same paths and bodies as Carflow's `/api/v1/proposals` and
`/api/v1/buyer/{token}`); one workflow (`workflow.py`) keeps its state in a string; its own
worker process (`worker.py`) runs one activity that sends the same French emails over SMTP
to the same sink, with the signed contract and the general conditions attached, made by
Carflow's own PDF renderer (or, `--bare-pdfs templates`, by WeasyPrint from the templates at
every signature; bench/bare/activities.py).

What it leaves out is what Carflow adds: no database (no read model, no outbox, no
idempotency records: an email is sent at least once), no state machine, no search
attributes, no projections, no e-signature envelope. It waits on the same durable timers
(30-day validity, then the withdrawal window after signing).
"""
