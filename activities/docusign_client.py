"""DocuSign eSignature REST calls through the `docusign-esign` SDK (DESIGN §6, "DocuSign facts").

The SDK is synchronous (urllib3): every method here blocks, so `DocuSignProvider`
(activities/signature.py) runs them in a thread. Authentication is the JWT grant: the
integration key's RSA private key signs an assertion for the impersonated user, whose access
token is kept until shortly before it expires (one token per process, shared by threads).

Errors come out as `DocuSignError`, with an operator-readable message naming the HTTP status
and whether trying again can help: 5xx, 408, 429 and network/TLS failures can; bad data, a
missing consent or a wrong key cannot.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import jwt
import urllib3
from docusign_esign import (
    ApiClient,
    CustomFields,
    Document,
    Envelope,
    EnvelopeDefinition,
    EnvelopesApi,
    Recipients,
    RecipientViewRequest,
    Signer,
    SignHere,
    Tabs,
    TextCustomField,
)
from docusign_esign.client.api_exception import ApiException, ArgumentException
from docusign_esign.client.api_response import RESTClientObject
from docusign_esign.client.configuration import Configuration

T = TypeVar("T")

SCOPES = ("signature", "impersonation")
JWT_LIFETIME_S = 3600
# A token is renewed this long before DocuSign says it expires (clock skew, slow calls).
TOKEN_MARGIN_S = 300
# Every HTTP call is bounded (connect, read), so a stalled DocuSign fails the attempt.
REQUEST_TIMEOUT_S = (10.0, 30.0)
# Envelope states in which the buyer can still sign.
SIGNABLE_STATUSES = frozenset({"sent", "delivered"})
# The signature goes just under the contract's closing declaration (activities/contract_page.py
# SIGNATURE_LINE, and templates/pdf/contract.html, its fallback). DocuSign refuses the envelope
# (ANCHOR_TAB_STRING_NOT_FOUND) if the text disappears from the contract, rather than sending a
# contract without a place to sign.
SIGN_HERE_ANCHOR = "Signature du souscripteur :"
SIGN_HERE_OFFSET_Y = "20"  # pixels below the anchor line, inside the blank signature area

# Envelope custom fields (hidden from the signer; Connect sends them back in the webhook).
FIELD_PROPOSAL_ID = "proposal_id"
FIELD_CONTRACT_NUMBER = "contract_number"
FIELD_DOCUMENT_SHA256 = "document_sha256"


class DocuSignError(Exception):
    """A DocuSign call failed; `retryable` says whether the same call may succeed later."""

    def __init__(self, message: str, *, status: int | None, code: str | None, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class DocuSignConfig:
    integration_key: str
    user_id: str
    account_id: str
    private_key: bytes  # PEM
    oauth_host: str  # host[:port], no scheme
    base_path: str  # https://demo.docusign.net/restapi
    ca_cert: str | None = None
    consent_redirect_uri: str | None = None  # shown in the consent link of the error message

    def consent_url(self) -> str:
        """Where the impersonated user grants the integration key consent (once)."""
        query = {
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "client_id": self.integration_key,
            "redirect_uri": self.consent_redirect_uri or "<a redirect URI of the integration key>",
        }
        return f"https://{self.oauth_host}/oauth/auth?{urlencode(query, quote_via=quote)}"


def oauth_host_name(value: str) -> str:
    """`https://account-d.docusign.com/` → `account-d.docusign.com` (the SDK adds the scheme)."""
    host = value.strip()
    for prefix in ("https://", "http://"):
        host = host.removeprefix(prefix)
    return host.rstrip("/")


def pem_bytes(text: str) -> bytes:
    """A PEM key from an environment variable may carry literal `\\n` instead of newlines."""
    if "\\n" in text and "\n" not in text.strip():
        text = text.replace("\\n", "\n")
    return text.strip().encode() + b"\n"


def transaction_id(proposal_id: str, document_sha256: str) -> str:
    """DocuSign's idempotency handle for an envelope: one per proposal and contract document."""
    return hashlib.sha256(f"carflow:{proposal_id}:{document_sha256}".encode()).hexdigest()[:32]


class _BoundedRESTClient(RESTClientObject):
    """The SDK's REST client with a default timeout: it otherwise waits forever."""

    def request(  # type: ignore[no-untyped-def]
        self,
        method,
        url,
        query_params=None,
        headers=None,
        body=None,
        post_params=None,
        _preload_content=True,
        _request_timeout=None,
    ):
        return super().request(
            method,
            url,
            query_params=query_params,
            headers=headers,
            body=body,
            post_params=post_params,
            _preload_content=_preload_content,
            _request_timeout=_request_timeout or REQUEST_TIMEOUT_S,
        )


def _body_of(exc: ApiException) -> dict[str, Any]:
    raw = exc.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {"message": str(raw)[:200]}
    return parsed if isinstance(parsed, dict) else {}


class DocuSignClient:
    """One DocuSign account, impersonating one user; thread-safe."""

    def __init__(self, config: DocuSignConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        configuration = Configuration()
        configuration.host = config.base_path
        if config.ca_cert:
            configuration.ssl_ca_cert = config.ca_cert
        self.api = ApiClient(host=config.base_path, oauth_host_name=config.oauth_host)
        # ApiClient builds its REST client from a fresh global Configuration; ours carries the
        # CA bundle (a test CA) and the timeouts, without touching the SDK's global default.
        self.api.rest_client = _BoundedRESTClient(configuration=configuration)
        self.envelopes = EnvelopesApi(self.api)
        self._lock = threading.Lock()
        self._token_valid_until = 0.0
        self._token: str | None = None

    # --- authentication ----------------------------------------------------------------

    def _authenticate(self, *, renew: bool = False, used: str | None = None) -> None:
        with self._lock:
            if renew and self._token != used:
                return  # another thread renewed it meanwhile
            if not renew and self._token and self._clock() < self._token_valid_until:
                return
            try:
                token = self.api.request_jwt_user_token(
                    client_id=self.config.integration_key,
                    user_id=self.config.user_id,
                    oauth_host_name=self.config.oauth_host,
                    private_key_bytes=self.config.private_key,
                    expires_in=JWT_LIFETIME_S,
                    scopes=SCOPES,
                )
            except (ApiException, urllib3.exceptions.HTTPError) as exc:
                raise self._error(exc, "JWT grant") from None
            except (ArgumentException, jwt.PyJWTError, ValueError, TypeError) as exc:
                # PyJWT/cryptography refuse a key that is not an RSA private key in PEM.
                raise DocuSignError(
                    f"DocuSign JWT grant impossible: the private key (CARFLOW_DOCUSIGN_PRIVATE_KEY_PATH or "
                    f"CARFLOW_DOCUSIGN_PRIVATE_KEY) is not a usable RSA private key in PEM: {exc}",
                    status=None,
                    code="invalid_private_key",
                    retryable=False,
                ) from None
            try:
                lifetime = int(token.expires_in or JWT_LIFETIME_S)
            except ValueError:
                lifetime = JWT_LIFETIME_S
            self._token = token.access_token
            self._token_valid_until = self._clock() + max(lifetime - TOKEN_MARGIN_S, 30)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        self._authenticate()
        used = self._token
        try:
            return call()
        except ApiException as exc:
            if exc.status != 401:
                raise self._error(exc, what) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self._error(exc, what) from None
        # 401: the token was revoked or expired early. One fresh token, one more try.
        self._authenticate(renew=True, used=used)
        try:
            return call()
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            raise self._error(exc, what) from None

    def _error(self, exc: Exception, what: str) -> DocuSignError:
        if not isinstance(exc, ApiException) or not exc.status:
            reason = getattr(exc, "reason", None) or exc
            return DocuSignError(
                f"DocuSign unreachable during {what} ({self.config.base_path}, {self.config.oauth_host}): "
                f"{str(reason).strip()[:300]}",
                status=None,
                code="unreachable",
                retryable=True,
            )
        status = int(exc.status)
        body = _body_of(exc)
        code = str(body.get("errorCode") or body.get("error") or "") or None
        detail = str(body.get("message") or body.get("error_description") or "")
        if code == "consent_required":
            return DocuSignError(
                f"DocuSign {status}: consent required for user {self.config.user_id} "
                f"(integration key {self.config.integration_key}); "
                f"grant it once at {self.config.consent_url()}",
                status=status,
                code=code,
                retryable=False,
            )
        if code in ("invalid_grant", "no_valid_keys_or_signatures", "invalid_client", "unauthorized_client"):
            return DocuSignError(
                f"DocuSign {status}: JWT grant refused ({code}{': ' + detail if detail else ''}): "
                "check CARFLOW_DOCUSIGN_INTEGRATION_KEY, "
                f"CARFLOW_DOCUSIGN_USER_ID, the RSA key pair and CARFLOW_DOCUSIGN_OAUTH_HOST "
                f"({self.config.oauth_host})",
                status=status,
                code=code,
                retryable=False,
            )
        retryable = status >= 500 or status in (408, 429)
        text = f"DocuSign {status} on {what}"
        if code:
            text += f": {code}"
        if detail:
            text += f": {detail[:300]}"
        return DocuSignError(text, status=status, code=code, retryable=retryable)

    # --- envelopes ---------------------------------------------------------------------

    def create_envelope(
        self,
        *,
        proposal_id: str,
        contract_number: str,
        document: bytes,
        document_sha256: str,
        signer_name: str,
        signer_email: str,
        client_user_id: str,
        subject: str,
    ) -> str:
        """Send (status `sent`) an envelope with our contract PDF for one embedded signer.

        Idempotent: the envelope's transaction id derives from the proposal and the document,
        so a retry after a lost answer finds the envelope instead of creating a second one.
        """
        txn = transaction_id(proposal_id, document_sha256)
        existing = self.find_by_transaction(txn)
        if existing is not None:
            return existing
        definition = EnvelopeDefinition(
            email_subject=subject[:100],
            status="sent",
            transaction_id=txn,
            documents=[
                Document(
                    document_base64=base64.b64encode(document).decode("ascii"),
                    name=f"Contrat {contract_number}",
                    file_extension="pdf",
                    document_id="1",
                )
            ],
            recipients=Recipients(
                signers=[
                    Signer(
                        email=signer_email,
                        name=signer_name,
                        recipient_id="1",
                        routing_order="1",
                        # Embedded signing: DocuSign sends the signer no email; we open the
                        # signing session with a recipient view for this same client user id.
                        client_user_id=client_user_id,
                        tabs=Tabs(
                            sign_here_tabs=[
                                SignHere(
                                    anchor_string=SIGN_HERE_ANCHOR,
                                    anchor_units="pixels",
                                    anchor_x_offset="0",
                                    anchor_y_offset=SIGN_HERE_OFFSET_Y,
                                    anchor_ignore_if_not_present="false",
                                )
                            ]
                        ),
                    )
                ]
            ),
            custom_fields=CustomFields(
                text_custom_fields=[
                    TextCustomField(
                        name=FIELD_PROPOSAL_ID, value=proposal_id, show="false", required="false"
                    ),
                    TextCustomField(
                        name=FIELD_CONTRACT_NUMBER, value=contract_number, show="false", required="false"
                    ),
                    TextCustomField(
                        name=FIELD_DOCUMENT_SHA256, value=document_sha256, show="false", required="false"
                    ),
                ]
            ),
        )
        summary = self._call(
            "envelope creation",
            lambda: self.envelopes.create_envelope(self.config.account_id, envelope_definition=definition),
        )
        return str(summary.envelope_id)

    def find_by_transaction(self, txn: str) -> str | None:
        """The signable envelope created with this transaction id (valid 7 days at DocuSign)."""
        since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        info = self._call(
            "envelope lookup",
            lambda: self.envelopes.list_status_changes(
                self.config.account_id, transaction_ids=txn, from_date=since
            ),
        )
        for envelope in info.envelopes or []:
            if envelope.transaction_id in (None, txn) and envelope.status in SIGNABLE_STATUSES:
                return str(envelope.envelope_id)
        for status in info.envelope_transaction_statuses or []:
            if status.transaction_id == txn and status.envelope_id and status.status in SIGNABLE_STATUSES:
                return str(status.envelope_id)
        return None

    def find_by_proposal(self, proposal_id: str, document_sha256: str | None = None) -> str | None:
        """The newest signable envelope of a proposal (by its custom field), or None."""
        since = (datetime.now(UTC) - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
        info = self._call(
            "envelope search",
            lambda: self.envelopes.list_status_changes(
                self.config.account_id,
                custom_field=f"{FIELD_PROPOSAL_ID}={proposal_id}",
                from_date=since,
                include="custom_fields",
                order="desc",
                order_by="created",
            ),
        )
        for envelope in info.envelopes or []:
            if envelope.status not in SIGNABLE_STATUSES:
                continue
            fields = _text_fields(envelope.custom_fields)
            if fields.get(FIELD_PROPOSAL_ID) != proposal_id:
                continue
            if document_sha256 and fields.get(FIELD_DOCUMENT_SHA256) not in (None, document_sha256):
                continue
            return str(envelope.envelope_id)
        return None

    def envelope_fields(self, envelope_id: str) -> dict[str, str]:
        """The envelope's text custom fields (what Connect sends back when so configured)."""
        fields = self._call(
            "custom fields lookup",
            lambda: self.envelopes.list_custom_fields(self.config.account_id, envelope_id),
        )
        return _text_fields(fields)

    def void_envelope(self, envelope_id: str, reason: str) -> bool:
        """Void an envelope nobody may sign any more; False if it was already finished
        (completed, declined or voided: DocuSign refuses to void those)."""
        try:
            self._call(
                "envelope void",
                lambda: self.envelopes.update(
                    self.config.account_id,
                    envelope_id,
                    envelope=Envelope(status="voided", voided_reason=reason[:200]),
                ),
            )
        except DocuSignError as exc:
            if exc.code == "ENVELOPE_CANNOT_VOID_INVALID_STATE":
                return False
            raise
        return True

    def recipient_view(
        self, envelope_id: str, *, signer_name: str, signer_email: str, client_user_id: str, return_url: str
    ) -> str:
        """A fresh embedded-signing URL: single use, valid a few minutes."""
        request = RecipientViewRequest(
            return_url=return_url,
            authentication_method="none",
            client_user_id=client_user_id,
            user_name=signer_name,
            email=signer_email,
            recipient_id="1",
        )
        view = self._call(
            "recipient view",
            lambda: self.envelopes.create_recipient_view(
                self.config.account_id, envelope_id, recipient_view_request=request
            ),
        )
        return str(view.url)


def _text_fields(custom_fields: Any) -> dict[str, str]:
    fields = getattr(custom_fields, "text_custom_fields", None) or []
    return {str(f.name): str(f.value) for f in fields if f.name is not None and f.value is not None}
