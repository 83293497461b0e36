"""DocuSign adapter fixtures: the HTTPS emulator, settings pointing at it, proposal rows.

Every test of this folder runs with `signature_provider=docusign` against a fresh emulator
(its own test CA, RSA key pair and port); the shared `settings` fixture is overridden here,
so `migrated`, `session_factory`, `app` and `client` (tests/conftest.py) all use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from proposal_harness import proposal_row
from signature.docusign_emulator import DocuSignEmulator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.signature import DocuSignProvider
from carflow.settings import Settings
from db.accounts import create_dealer
from db.models import Proposal
from support import make_settings

INTEGRATION_KEY = "3f0c9a52-1d7e-4c1b-9a55-6a2a4c1e0b11"
USER_ID = "8d1b6c0e-52a4-4f0e-a1c7-2b9e3f5d7a21"
ACCOUNT_ID = "c5e2a7f4-9b3d-4e61-8f20-71a9d4b6e3c8"
# Connect HMAC keys as DocuSign shows them (base64 text, used as is): the old and the new
# one while rotating.
HMAC_KEYS = ("b2xkLWNvbm5lY3Qta2V5LWZvci10ZXN0cw==", "bmV3LWNvbm5lY3Qta2V5LWZvci10ZXN0cw==")


def connect_signature(key: str, body: bytes) -> str:
    """What DocuSign Connect puts in X-DocuSign-Signature-N (computed independently here)."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture(scope="session")
def rsa_key() -> tuple[bytes, bytes]:
    """The integration key's RSA pair: (private PEM for us, public PEM for the emulator)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@pytest.fixture
def emulator(rsa_key: tuple[bytes, bytes]) -> Iterator[DocuSignEmulator]:
    emu = DocuSignEmulator(
        integration_key=INTEGRATION_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, public_key_pem=rsa_key[1]
    ).start()
    yield emu
    emu.stop()


@pytest.fixture
def docusign_settings(
    tmp_path: Path, emulator: DocuSignEmulator, rsa_key: tuple[bytes, bytes]
) -> dict[str, object]:
    key_path = tmp_path / "docusign-private.pem"
    key_path.write_bytes(rsa_key[0])
    return {
        "signature_provider": "docusign",
        "docusign_integration_key": INTEGRATION_KEY,
        "docusign_user_id": USER_ID,
        "docusign_account_id": ACCOUNT_ID,
        "docusign_private_key_path": key_path,
        "docusign_oauth_host": emulator.host,
        "docusign_base_path": emulator.base_path,
        "docusign_ca_cert": emulator.write_ca(tmp_path / "docusign-test-ca.pem"),
        "docusign_connect_hmac_keys": ",".join(HMAC_KEYS),
    }


@pytest.fixture
def settings(tmp_path: Path, database: dict[str, object], docusign_settings: dict[str, object]) -> Settings:
    return make_settings(tmp_path, **database, **docusign_settings)


@pytest.fixture
def provider(settings: Settings) -> DocuSignProvider:
    return DocuSignProvider.from_settings(settings)


async def add_proposal(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> Proposal:
    """A proposal row (and its dealer), as the API creates them; no workflow."""
    async with session_factory() as session:
        dealer = await create_dealer(
            session, "Garage des Tilleuls", email="garage@example.com", phone="01 23 45 67 89"
        )
        proposal = proposal_row(settings, dealer.id, kind="insurance")
        session.add(proposal)
        await session.commit()
        await session.refresh(proposal)
        return proposal
