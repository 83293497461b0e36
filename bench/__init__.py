"""Measurements apart from the test suite: `make bench` (lifecycles and reads against bare
baselines) and the process stack they and the fault suite (`make chaos`) run on."""
