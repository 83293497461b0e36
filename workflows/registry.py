"""Every workflow class the worker runs; each domain adds its workflow here."""

from collections.abc import Sequence

from workflows.dealer_notices import DealerNoticesWorkflow
from workflows.listing import ListingWorkflow
from workflows.proposal import ProposalWorkflow

ALL_WORKFLOWS: Sequence[type] = (ProposalWorkflow, ListingWorkflow, DealerNoticesWorkflow)
