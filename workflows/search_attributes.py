"""Custom search attributes every Carflow namespace must have before a workflow upserts one.

Registered by the embedded dev server (`carflow devserver`), by the compose stack's setup
job, and by the tests; this mapping is the single list they all read.
"""

from temporalio.common import SearchAttributeKey

PROPOSAL_STATE = SearchAttributeKey.for_keyword("ProposalState")
LISTING_STATE = SearchAttributeKey.for_keyword("ListingState")
DEALER_ID = SearchAttributeKey.for_keyword("DealerId")
CONTRACT_NUMBER = SearchAttributeKey.for_keyword("ContractNumber")
EMAIL_FAILED = SearchAttributeKey.for_bool("EmailFailed")

ALL_KEYS = (PROPOSAL_STATE, LISTING_STATE, DEALER_ID, CONTRACT_NUMBER, EMAIL_FAILED)

# Names as the temporal CLI spells the types (`--search-attribute Name=Keyword`).
CLI_TYPES: dict[str, str] = {
    PROPOSAL_STATE.name: "Keyword",
    LISTING_STATE.name: "Keyword",
    DEALER_ID.name: "Keyword",
    CONTRACT_NUMBER.name: "Keyword",
    EMAIL_FAILED.name: "Bool",
}
