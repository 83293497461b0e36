"""A bare-Temporal baseline for `make bench`: the same lifecycle with nothing of Carflow's around it.

The same shape as Carflow, so the difference measured is Carflow's own cost: an HTTP API
(FastAPI, `bench/bare/api.py`) that starts a workflow and drives it with Temporal updates
(create then `send_to_buyer`, `view`, `accept`, `sign`, on the same paths and bodies as
Carflow's `/api/v1/proposals` and `/api/v1/buyer/{token}`), one workflow (`workflow.py`)
whose state is a plain string, and its own worker process (`worker.py`) whose activities
send the same French emails over SMTP to the same sink, the signed contract and the
general conditions rendered from the same PDF templates and attached.

What it leaves out is what Carflow adds: no database (no read model, no outbox, no
idempotency records: an email is sent at least once), no state machine, no search
attributes, no projections, no e-signature envelope. It waits on the same durable timers
(30-day validity, then the withdrawal window after signing).
"""
