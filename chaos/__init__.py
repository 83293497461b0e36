"""The fault suite (`make chaos`, `python -m chaos`): real processes, real faults, counted.

Not a timed test: it starts its own stack of real processes on free ports (bench/stack.py),
drives lifecycles through the HTTP API as a dealer and a buyer would, injects faults
(kill -9 of the worker), and prints what it saw. It fails (exit 1) on any proposal not
signed in the end (stuck), any email lost or duplicated, any HTTP 500, or any answer that
was false (a 201/200 whose effect never happened).
"""
