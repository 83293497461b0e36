"""What every activity class that reads or writes the database is built with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carflow.settings import Settings


# eq=False: compared by identity, as the worker registers the bound methods of one instance.
@dataclass(eq=False)
class DatabaseActivities:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
