"""Which provider the settings pick, what `docusign` requires, and the local provider's contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.testing import ActivityEnvironment

from activities.signature import (
    DocuSignProvider,
    EnvelopeRequest,
    LocalProvider,
    Signer,
    build_provider,
)
from activities.signature_activities import SignatureActivities
from carflow.settings import describe_validation_error
from support import make_settings
from workflows.proposal_contract import CreateEnvelopeInput


def test_local_is_the_default_and_needs_nothing(tmp_path: Path) -> None:
    provider = build_provider(make_settings(tmp_path))
    assert isinstance(provider, LocalProvider) and provider.name == "local"


def test_docusign_names_every_missing_setting_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(tmp_path, signature_provider="docusign", docusign_account_id="acc")
    message = describe_validation_error(info.value)
    assert "\n" not in message
    assert message == (
        "CARFLOW_DOCUSIGN_INTEGRATION_KEY, CARFLOW_DOCUSIGN_USER_ID, CARFLOW_DOCUSIGN_CONNECT_HMAC_KEYS, "
        "CARFLOW_DOCUSIGN_PRIVATE_KEY_PATH (or CARFLOW_DOCUSIGN_PRIVATE_KEY) must be set when "
        "CARFLOW_SIGNATURE_PROVIDER=docusign"
    )


def test_docusign_settings_build_the_docusign_provider(tmp_path: Path, rsa_key) -> None:
    settings = make_settings(
        tmp_path,
        signature_provider="docusign",
        docusign_integration_key="ik",
        docusign_user_id="user",
        docusign_account_id="acc",
        docusign_private_key=rsa_key[0].decode(),
        docusign_connect_hmac_keys="k1",
        docusign_oauth_host="https://account-d.docusign.com/",
    )
    provider = build_provider(settings)
    assert isinstance(provider, DocuSignProvider)
    config = provider.client.config
    assert config.oauth_host == "account-d.docusign.com"  # the SDK adds the scheme itself
    assert config.base_path == "https://demo.docusign.net/restapi"
    assert config.ca_cert is None  # the public CAs


async def test_local_provider_signs_on_our_own_buyer_page() -> None:
    provider = LocalProvider()
    signer = Signer("Marie Curie", "marie@example.com", "p-1")
    envelope_id = await provider.create_envelope(EnvelopeRequest("p-1", "CF1", b"%PDF", signer))

    assert envelope_id == "local-p-1"
    assert (
        await provider.signing_url(envelope_id, signer, "https://x.example/p/tok")
        == "https://x.example/p/tok"
    )
    assert await provider.envelope_proposal_id(envelope_id) == "p-1"
    assert await provider.find_envelope("p-1") is None


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(
            tmp_path,
            signature_provider="docusign",
            docusign_integration_key="ik",
            docusign_user_id="user",
            docusign_account_id="acc",
            docusign_private_key_path=tmp_path / "missing.pem",
            docusign_connect_hmac_keys="k1",
        )
    assert describe_validation_error(info.value).startswith(
        "CARFLOW_DOCUSIGN_PRIVATE_KEY_PATH is not a readable file:"
    )


async def test_with_the_local_provider_the_activity_prepares_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    activities = SignatureActivities(settings, LocalProvider(), session_factory=None)  # type: ignore[arg-type]

    envelope_id = await ActivityEnvironment().run(
        activities.create_signature_envelope, CreateEnvelopeInput("0b6f3c1e-0000-4000-8000-000000000001")
    )

    assert envelope_id == "local-0b6f3c1e-0000-4000-8000-000000000001"
    assert not settings.documents_dir.exists()
