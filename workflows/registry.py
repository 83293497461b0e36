"""Every workflow class the worker runs; each domain adds its workflow here."""

from collections.abc import Sequence

ALL_WORKFLOWS: Sequence[type] = ()
