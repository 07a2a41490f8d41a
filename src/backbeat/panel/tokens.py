"""Random tokens, their keyed digests, PKCE pairs and CSRF tokens.

The browser holds random tokens (session cookie, login-binding cookie, OAuth ``state``);
the database holds only HMAC-SHA256 digests of them under the session secret. The CSRF token
of a session is derived from its cookie token, so it needs no storage and changes with every
login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


def random_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE verifier (kept server side) and its S256 challenge (sent to Discord)."""

    verifier: str
    challenge: str


def pkce_pair() -> Pkce:
    """A 64-character verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier, challenge)


class Signer:
    """Keyed digests under the panel's session secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 characters")
        self._key = secret.encode()

    def digest(self, purpose: str, token: str) -> str:
        """Hex HMAC of ``token`` for one ``purpose`` (``session``, ``state``, ``browser``)."""
        message = f"{purpose}\x00{token}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def csrf_token(self, session_token: str) -> str:
        """The CSRF token of a session."""
        return self.digest("csrf", session_token)

    def csrf_valid(self, session_token: str, presented: str | None) -> bool:
        """Constant-time check of a presented CSRF token."""
        if not presented:
            return False
        return hmac.compare_digest(self.csrf_token(session_token), presented)
