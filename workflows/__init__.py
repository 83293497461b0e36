"""Temporal workflows: deterministic lifecycles whose legal moves come from `statemachines`."""
