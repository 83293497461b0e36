"""A local HTTPS emulator of the DocuSign endpoints the adapter calls, for tests.

It serves TLS with a trustme test CA (the SDK's JWT grant always posts to
`https://<oauth host>/oauth/token`), on 127.0.0.1, and answers both as the OAuth host
(`/oauth/token`) and as the REST base path (`/restapi/v2.1/accounts/{account}/...`):

* `POST /oauth/token`: JWT-bearer grant; checks the assertion's RS256 signature with the
  integration key's public key, its issuer, subject, audience and scopes; answers
  `consent_required` when the user has not consented.
* `POST /restapi/v2.1/accounts/{a}/envelopes`: records the envelope; refuses what DocuSign
  refuses (status other than created/sent, no document, an anchor tab whose text is not in
  the PDF).
* `GET /restapi/v2.1/accounts/{a}/envelopes`: listStatusChanges by `transaction_ids` or
  `custom_field=name=value` (with `include=custom_fields`).
* `GET .../envelopes/{id}/custom_fields`: the envelope's custom fields.
* `POST .../envelopes/{id}/views/recipient`: a fresh single-use signing URL, only for the
  envelope's embedded recipient (same clientUserId, userName and email).

Failures are injected with `fail(...)`; every request is kept in `requests`.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pypdf
import trustme

ENVELOPES = re.compile(r"^/restapi/v2\.1/accounts/(?P<account>[^/]+)/envelopes$")
ENVELOPE = re.compile(r"^/restapi/v2\.1/accounts/(?P<account>[^/]+)/envelopes/(?P<envelope>[^/]+)$")
ENVELOPE_PART = re.compile(
    r"^/restapi/v2\.1/accounts/(?P<account>[^/]+)/envelopes/(?P<envelope>[^/]+)/(?P<part>views/recipient|custom_fields)$"
)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    times: int


@dataclass
class Envelope:
    envelope_id: str
    definition: dict[str, Any]
    status: str
    created: str
    transaction_id: str | None
    views: list[str] = field(default_factory=list)
    voided_reason: str | None = None

    @property
    def text_custom_fields(self) -> list[dict[str, Any]]:
        return list((self.definition.get("customFields") or {}).get("textCustomFields") or [])

    @property
    def signer(self) -> dict[str, Any]:
        return self.definition["recipients"]["signers"][0]

    @property
    def document(self) -> bytes:
        return base64.b64decode(self.definition["documents"][0]["documentBase64"])


def error(code: str, message: str) -> dict[str, str]:
    """DocuSign's REST error body."""
    return {"errorCode": code, "message": message}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


class DocuSignEmulator:
    def __init__(
        self,
        *,
        integration_key: str,
        user_id: str,
        account_id: str,
        public_key_pem: bytes,
        ca: trustme.CA | None = None,
    ) -> None:
        self.integration_key = integration_key
        self.user_id = user_id
        self.account_id = account_id
        self.public_key_pem = public_key_pem
        self.ca = ca or trustme.CA()
        self.consented = True
        self.consent_status = 400  # what DocuSign answers to a JWT grant without consent
        self.tokens: set[str] = set()
        self.envelopes: dict[str, Envelope] = {}
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life -----------------------------------------------------------------------------

    def start(self) -> DocuSignEmulator:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="docusign-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_path(self) -> str:
        return f"https://{self.host}/restapi"

    def write_ca(self, path: Path) -> Path:
        self.ca.cert_pem.write_to_path(str(path))
        return path

    # --- test controls ----------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, body: dict[str, Any], times: int = 1) -> None:
        """The next `times` requests `method` whose path matches the regex `path` get this answer."""
        self.failures.append(Failure(method, re.compile(path), status, body, times))

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    @property
    def token_requests(self) -> list[Recorded]:
        return self.calls("POST", r"^/oauth/token$")

    def connect_message(
        self, envelope_id: str, event: str = "envelope-completed", *, custom_fields: bool = True
    ) -> bytes:
        """A Connect JSON SIM message for an envelope, as DocuSign would post it."""
        envelope = self.envelopes[envelope_id]
        status = {"envelope-completed": "completed", "envelope-declined": "declined"}.get(event, "voided")
        summary: dict[str, Any] = {
            "status": status,
            "envelopeId": envelope_id,
            "emailSubject": envelope.definition.get("emailSubject"),
            "sentDateTime": envelope.created,
            "statusChangedDateTime": _now(),
        }
        if custom_fields:
            summary["customFields"] = {
                "textCustomFields": envelope.text_custom_fields,
                "listCustomFields": [],
            }
        message = {
            "event": event,
            "apiVersion": "v2.1",
            "uri": f"/restapi/v2.1/accounts/{self.account_id}/envelopes/{envelope_id}",
            "retryCount": 0,
            "configurationId": 10001,
            "generatedDateTime": _now(),
            "data": {
                "accountId": self.account_id,
                "userId": self.user_id,
                "envelopeId": envelope_id,
                "envelopeSummary": summary,
            },
        }
        return json.dumps(message, separators=(",", ":")).encode()

    # --- request handling ---------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        record = Recorded(method, parts.path, parse_qs(parts.query), headers, body)
        with self._lock:
            self.requests.append(record)
            for failure in self.failures:
                if failure.times > 0 and failure.method == method and failure.path.search(parts.path):
                    failure.times -= 1
                    return failure.status, failure.body
            return self._route(record)

    def _route(self, r: Recorded) -> tuple[int, Any]:
        if r.path == "/oauth/token" and r.method == "POST":
            return self._token(r)
        if r.path.startswith("/restapi/"):
            if r.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
                return 401, {
                    "errorCode": "USER_AUTHENTICATION_FAILED",
                    "message": "One or both of Username and Password are invalid. Invalid access token",
                }
            match = ENVELOPES.match(r.path)
            if match and match["account"] == self.account_id:
                return self._create(r) if r.method == "POST" else self._list(r)
            match = ENVELOPE.match(r.path)
            if match and match["account"] == self.account_id and r.method == "PUT":
                return self._update(match["envelope"], r.json())
            match = ENVELOPE_PART.match(r.path)
            if match and match["account"] == self.account_id:
                envelope = self.envelopes.get(match["envelope"])
                if envelope is None:
                    return 400, {
                        "errorCode": "ENVELOPE_DOES_NOT_EXIST",
                        "message": "The envelope does not exist.",
                    }
                if match["part"] == "custom_fields" and r.method == "GET":
                    return 200, {"textCustomFields": envelope.text_custom_fields, "listCustomFields": []}
                if match["part"] == "views/recipient" and r.method == "POST":
                    return self._view(envelope, r.json())
        return 404, error("RESOURCE_NOT_FOUND", f"{r.method} {r.path} is not emulated")

    def _update(self, envelope_id: str, change: dict[str, Any]) -> tuple[int, Any]:
        """PUT envelopes/{id}: voiding, as DocuSign does it (only an envelope still in flight)."""
        envelope = self.envelopes.get(envelope_id)
        if envelope is None:
            return 400, error("ENVELOPE_DOES_NOT_EXIST", "The envelope does not exist.")
        if change.get("status") != "voided":
            return 400, error("INVALID_REQUEST_PARAMETER", "only voiding is emulated")
        if not change.get("voidedReason"):
            return 400, error("ENVELOPE_VOIDED_REASON_REQUIRED", "A voided reason is required.")
        if envelope.status not in ("created", "sent", "delivered"):
            return 400, error(
                "ENVELOPE_CANNOT_VOID_INVALID_STATE",
                f"Only envelopes in the 'Sent' or 'Delivered' states may be voided (is {envelope.status}).",
            )
        envelope.status = "voided"
        envelope.voided_reason = change["voidedReason"]
        return 200, {"envelopeId": envelope_id}

    def _token(self, r: Recorded) -> tuple[int, Any]:
        form = parse_qs(r.body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form["assertion"][0],
                self.public_key_pem,
                algorithms=["RS256"],
                audience=self.host,
                issuer=self.integration_key,
            )
        except (KeyError, jwt.PyJWTError):
            return 400, {"error": "invalid_grant", "error_description": "no_valid_keys_or_signatures"}
        if claims.get("sub") != self.user_id:
            return 400, {"error": "invalid_grant", "error_description": "user_not_found"}
        if not {"signature", "impersonation"} <= set(str(claims.get("scope", "")).split()):
            return 400, {"error": "invalid_scope"}
        if not self.consented:
            return self.consent_status, {"error": "consent_required"}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _create(self, r: Recorded) -> tuple[int, Any]:
        definition = r.json()
        if definition.get("status") not in ("created", "sent"):
            return 400, {
                "errorCode": "INVALID_REQUEST_PARAMETER",
                "message": "status must be created or sent",
            }
        documents = definition.get("documents") or []
        if len(documents) != 1:
            return 400, error("ENVELOPE_HAS_NO_DOCUMENTS", "one document expected here")
        pdf = base64.b64decode(documents[0].get("documentBase64") or "")
        if not pdf.startswith(b"%PDF"):
            return 400, error("FORMAT_CONVERSION_ERROR", "The document is not a PDF.")
        text = " ".join(pdf_text(pdf).split())
        for signer in definition["recipients"]["signers"]:
            for tab in (signer.get("tabs") or {}).get("signHereTabs") or []:
                anchor = tab.get("anchorString")
                if anchor and anchor not in text and tab.get("anchorIgnoreIfNotPresent") != "true":
                    message = f"The specified Anchor Tab string was not found in the document. [{anchor}]"
                    return 400, error("ANCHOR_TAB_STRING_NOT_FOUND", message)
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            definition=definition,
            status=definition["status"],
            created=_now(),
            transaction_id=definition.get("transactionId"),
        )
        self.envelopes[envelope.envelope_id] = envelope
        return 201, {
            "envelopeId": envelope.envelope_id,
            "uri": f"/envelopes/{envelope.envelope_id}",
            "statusDateTime": envelope.created,
            "status": envelope.status,
        }

    def _list(self, r: Recorded) -> tuple[int, Any]:
        found = list(self.envelopes.values())
        transaction_ids = (r.query.get("transaction_ids") or [""])[0]
        if transaction_ids:
            wanted = set(transaction_ids.split(","))
            found = [e for e in found if e.transaction_id in wanted]
        elif not r.query.get("from_date"):
            return 400, error("INVALID_REQUEST_PARAMETER", "from_date is required")
        custom = (r.query.get("custom_field") or [""])[0]
        if custom:
            name, _, value = custom.partition("=")
            found = [
                e
                for e in found
                if any(f["name"] == name and f["value"] == value for f in e.text_custom_fields)
            ]
        found.sort(key=lambda e: e.created, reverse=True)
        include_fields = "custom_fields" in (r.query.get("include") or [""])[0]
        envelopes = []
        for e in found:
            item: dict[str, Any] = {
                "envelopeId": e.envelope_id,
                "status": e.status,
                "transactionId": e.transaction_id,
                "createdDateTime": e.created,
            }
            if include_fields:
                item["customFields"] = {"textCustomFields": e.text_custom_fields}
            envelopes.append(item)
        answer: dict[str, Any] = {"resultSetSize": str(len(envelopes)), "envelopes": envelopes}
        if transaction_ids:
            answer["envelopeTransactionStatuses"] = [
                {"envelopeId": e.envelope_id, "transactionId": e.transaction_id, "status": e.status}
                for e in found
            ]
        return 200, answer

    def _view(self, envelope: Envelope, request: dict[str, Any]) -> tuple[int, Any]:
        signer = envelope.signer
        if envelope.status not in ("sent", "delivered"):
            return 400, {
                "errorCode": "ENVELOPE_INVALID_STATUS",
                "message": f"Envelope status is {envelope.status}",
            }
        if (
            request.get("clientUserId") != signer.get("clientUserId")
            or request.get("userName") != signer.get("name")
            or request.get("email") != signer.get("email")
        ):
            message = "The recipient you have identified is not a valid recipient of the specified envelope."
            return 400, error("UNKNOWN_ENVELOPE_RECIPIENT", message)
        if not request.get("returnUrl") or not request.get("authenticationMethod"):
            return 400, {
                "errorCode": "INVALID_REQUEST_PARAMETER",
                "message": "returnUrl and authenticationMethod",
            }
        url = (
            f"https://{self.host}/Signing/MTRedeem/v1/{secrets.token_urlsafe(16)}?slt={secrets.token_hex(8)}"
        )
        envelope.views.append(url)
        return 201, {"url": url}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _handler(emulator: DocuSignEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = emulator.handle(self.command, self.path, headers, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
            pass

    return Handler
