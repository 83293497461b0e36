"""The DocuSign adapter against the HTTPS emulator: JWT grant, envelope, embedded signing, errors.

Nothing of ours is mocked: the real docusign-esign SDK talks TLS (a trustme test CA) to
tests/signature/docusign_emulator.py, which checks what DocuSign would check.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from signature.conftest import ACCOUNT_ID, add_proposal
from signature.docusign_emulator import DocuSignEmulator, pdf_text
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contract_context import contract_context
from activities.documents import DocumentRenderer
from activities.signature import (
    ERROR_PROVIDER_REFUSED,
    ERROR_PROVIDER_UNAVAILABLE,
    DocuSignProvider,
    EnvelopeRequest,
    SignatureProviderError,
    Signer,
)
from activities.signature_activities import SignatureActivities
from carflow.settings import Settings
from db.documents import DocumentStore, sha256_hex
from db.models import Dealer, Proposal
from workflows.proposal_contract import CreateEnvelopeInput

ENVELOPES = rf"/restapi/v2\.1/accounts/{ACCOUNT_ID}/envelopes$"
RETURN_URL = "https://carflow.example.com/p/tok-123"


@pytest.fixture
def store(migrated: Settings) -> DocumentStore:
    return DocumentStore(migrated.documents_dir)


@pytest.fixture
def activities(migrated: Settings, provider: DocuSignProvider, session_factory, store) -> SignatureActivities:
    return SignatureActivities(migrated, provider, session_factory, store)


async def contract_pdf(session_factory, proposal: Proposal) -> bytes:
    async with session_factory() as session:
        dealer = await session.get(Dealer, proposal.dealer_id)
        row = await session.get(Proposal, proposal.id)
        return DocumentRenderer().contract(contract_context(row, dealer))


async def create(activities: SignatureActivities, data: CreateEnvelopeInput) -> str:
    return await ActivityEnvironment().run(activities.create_signature_envelope, data)


async def test_envelope_is_created_with_our_contract_pdf(
    migrated, session_factory, store, activities, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    pdf = await contract_pdf(session_factory, proposal)
    digest = store.put(pdf)

    envelope_id = await create(activities, CreateEnvelopeInput(str(proposal.id), digest))

    envelope = emulator.envelopes[envelope_id]
    sent = envelope.document
    assert sent == pdf and sent.startswith(b"%PDF")
    text = pdf_text(sent)
    assert proposal.contract_number in text and "Marie Curie" in text
    definition = envelope.definition
    assert definition["status"] == "sent"
    signer = envelope.signer
    assert (signer["name"], signer["email"]) == ("Marie Curie", "marie@example.com")
    assert signer["clientUserId"] == str(proposal.id)  # embedded signing
    assert signer["tabs"]["signHereTabs"][0]["anchorString"] in " ".join(text.split())
    fields = {f["name"]: f["value"] for f in envelope.text_custom_fields}
    assert fields == {
        "proposal_id": str(proposal.id),
        "contract_number": proposal.contract_number,
        "document_sha256": digest,
    }
    # The JWT grant happened once, with our RSA key, impersonating the configured user.
    assert len(emulator.token_requests) == 1


async def test_without_a_digest_the_reviewed_contract_is_rendered_and_kept(
    migrated, session_factory, store, activities, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)

    envelope_id = await create(activities, CreateEnvelopeInput(str(proposal.id)))

    async with session_factory() as session:
        row = await session.get(Proposal, proposal.id)
        assert row.contract_pdf_sha256 is not None
    sent = emulator.envelopes[envelope_id].document
    assert sha256_hex(sent) == row.contract_pdf_sha256 and store.get(row.contract_pdf_sha256) == sent
    assert proposal.contract_number in pdf_text(sent)


async def test_a_retried_activity_finds_its_envelope_instead_of_sending_another(
    migrated, session_factory, store, activities, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    digest = store.put(await contract_pdf(session_factory, proposal))

    first = await create(activities, CreateEnvelopeInput(str(proposal.id), digest))
    again = await create(activities, CreateEnvelopeInput(str(proposal.id), digest))

    assert again == first and len(emulator.envelopes) == 1
    assert len(emulator.token_requests) == 1  # the access token is reused


async def test_recipient_view_url_is_fresh_at_each_call(
    migrated, session_factory, store, activities, provider: DocuSignProvider, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    envelope_id = await create(activities, CreateEnvelopeInput(str(proposal.id)))
    signer = Signer("Marie Curie", "marie@example.com", str(proposal.id))

    first = await provider.signing_url(envelope_id, signer, RETURN_URL)
    second = await provider.signing_url(envelope_id, signer, RETURN_URL)

    assert first.startswith(f"https://{emulator.host}/Signing/") and second != first
    assert emulator.envelopes[envelope_id].views == [first, second]
    request = emulator.calls("POST", r"/views/recipient$")[-1].json()
    assert request == {
        "authenticationMethod": "none",
        "clientUserId": str(proposal.id),
        "email": "marie@example.com",
        "recipientId": "1",
        "returnUrl": RETURN_URL,
        "userName": "Marie Curie",
    }
    # The API finds the envelope again without a database column.
    assert await provider.find_envelope(str(proposal.id)) == envelope_id
    assert await provider.envelope_proposal_id(envelope_id) == str(proposal.id)


async def test_a_view_for_someone_else_is_refused_without_retry(
    migrated, session_factory, activities, provider: DocuSignProvider
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    envelope_id = await create(activities, CreateEnvelopeInput(str(proposal.id)))

    with pytest.raises(SignatureProviderError) as info:
        await provider.signing_url(envelope_id, Signer("Mallory", "m@example.com", "other"), RETURN_URL)

    assert not info.value.retryable and info.value.status == 400
    assert "DocuSign 400" in info.value.message and "UNKNOWN_ENVELOPE_RECIPIENT" in info.value.message


@pytest.mark.parametrize("status", [400, 401])
async def test_missing_consent_is_a_non_retryable_error_that_says_what_to_do(
    migrated, session_factory, activities, emulator: DocuSignEmulator, status: int
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    emulator.consented = False
    emulator.consent_status = status

    with pytest.raises(ApplicationError) as info:
        await create(activities, CreateEnvelopeInput(str(proposal.id)))

    error = info.value
    assert error.non_retryable and error.type == ERROR_PROVIDER_REFUSED
    assert f"DocuSign {status}: consent required for user" in error.message
    assert "/oauth/auth?response_type=code&scope=signature%20impersonation&client_id=" in error.message
    assert error.message.endswith(f"(proposal-{proposal.id})")
    assert emulator.envelopes == {}


async def test_server_errors_are_retryable(
    migrated, session_factory, activities, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    emulator.fail("POST", ENVELOPES, 503, {"errorCode": "SERVICE_UNAVAILABLE", "message": "Try again later."})

    with pytest.raises(ApplicationError) as info:
        await create(activities, CreateEnvelopeInput(str(proposal.id)))

    assert not info.value.non_retryable and info.value.type == ERROR_PROVIDER_UNAVAILABLE
    assert "DocuSign 503 on envelope creation: SERVICE_UNAVAILABLE" in info.value.message
    # The next attempt (Temporal's retry) succeeds.
    envelope_id = await create(activities, CreateEnvelopeInput(str(proposal.id)))
    assert envelope_id in emulator.envelopes


async def test_bad_data_is_not_retried(
    migrated, session_factory, activities, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    emulator.fail(
        "POST",
        ENVELOPES,
        400,
        {
            "errorCode": "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
            "message": "The email address for the recipient is invalid.",
        },
    )

    with pytest.raises(ApplicationError) as info:
        await create(activities, CreateEnvelopeInput(str(proposal.id)))

    assert info.value.non_retryable
    assert info.value.message.startswith(
        "DocuSign 400 on envelope creation: INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"
    )


async def test_unreachable_docusign_is_retryable(
    migrated, session_factory, activities, emulator: DocuSignEmulator
) -> None:
    proposal = await add_proposal(migrated, session_factory)
    emulator.stop()

    with pytest.raises(ApplicationError) as info:
        await create(activities, CreateEnvelopeInput(str(proposal.id)))

    assert not info.value.non_retryable and "DocuSign unreachable during JWT grant" in info.value.message


async def test_a_revoked_token_is_renewed_once(
    migrated, session_factory, activities, emulator: DocuSignEmulator
) -> None:
    first = await add_proposal(migrated, session_factory)
    await create(activities, CreateEnvelopeInput(str(first.id)))
    emulator.revoke_tokens()

    second = await add_proposal(migrated, session_factory)
    envelope_id = await create(activities, CreateEnvelopeInput(str(second.id)))

    assert envelope_id in emulator.envelopes and len(emulator.token_requests) == 2


async def test_the_test_ca_is_required_to_talk_to_the_emulator(
    tmp_path, migrated: Settings, emulator: DocuSignEmulator
) -> None:
    """TLS is verified: without the test CA, the public CAs do not trust the emulator."""
    provider = DocuSignProvider.from_settings(migrated.model_copy(update={"docusign_ca_cert": None}))
    document = b"%PDF-1.7 not really"
    request = EnvelopeRequest("p", "CF1", document, Signer("Marie Curie", "marie@example.com", "p"))

    with pytest.raises(SignatureProviderError) as info:
        await provider.create_envelope(request)

    assert info.value.retryable and "DocuSign unreachable" in info.value.message
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message or "certificate" in info.value.message.lower()
    assert emulator.requests == []


async def test_private_key_given_as_one_line_of_text(
    migrated: Settings, rsa_key, emulator: DocuSignEmulator
) -> None:
    """CARFLOW_DOCUSIGN_PRIVATE_KEY with `\\n` for newlines, as a .env line would hold it."""
    escaped = rsa_key[0].decode().strip().replace("\n", "\\n")
    settings = migrated.model_copy(
        update={"docusign_private_key": SecretStr(escaped), "docusign_private_key_path": None}
    )
    provider = DocuSignProvider.from_settings(settings)

    assert await provider.find_envelope("no-such-proposal") is None
    assert len(emulator.token_requests) == 1  # the emulator verified the JWT's RS256 signature
