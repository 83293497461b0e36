"""The kernel every other package builds on; it imports nothing of ours outside itself.

Settings (`settings`), logging (`logs`), the Temporal connection (`temporal_client`) and
metrics runtime (`observability`), tokens and every mailed or shown link (`tokens`,
`links`), French formatting (`formatting`), the IBAN vault (`iban`), one-time signing
codes (`onetime_codes`), database error messages (`database_errors`), and handing a
record's facts on to another (`records`).
"""
