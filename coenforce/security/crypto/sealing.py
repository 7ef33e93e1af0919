"""Keys, sealing and opening one value, and blind indexes.

How a value is sealed: AES-GCM under the first key of
`COENFORCE_ENCRYPTION_KEYS`, a random 96-bit nonce per value, and as
associated data the table, the column and the row's key (a random value the
row gets in Python, `columns.row_key_column`), so a ciphertext copied to
another row or column fails to decrypt. The stored text is
`v2.<key id>.<base64url(nonce | ciphertext | tag)>`; the key id is an HMAC of
the key, not its position, so keys may be reordered freely. Keys live only in
the configuration, never in the database.

Format v1 (read only): values written before rows had a row key were bound to
the row's primary key instead. They stay readable; `keys rotate` rewrites
them as v2. The version is part of the associated data, so relabelling a
value's version makes it fail to decrypt.

Blind indexes: `blind_index(value, purpose)` is HMAC-SHA256 under a key
derived with HKDF from the FIRST encryption key and the purpose label, over a
normalised value (the field says how: A-Numbers by
`coenforce.detentions.a_number.normalize_a_number`, anything else by
`normalize_text`). Rotating the first key therefore changes every blind index:
`keys rotate` recomputes them, and until it has run, lookups try the value
under every configured key (`blind_index_candidates`).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app, has_app_context

FORMAT_VERSION = "v2"  # what every new value is sealed as
LEGACY_VERSION = "v1"  # bound to the primary key; read, never written
NONCE_BYTES = 12  # 96 bits: the size AES-GCM is designed for

Normalizer = Callable[[str], str]


class DecryptionError(Exception):
    """A stored value could not be decrypted. Names where, never what."""

    def __init__(self, table: str, column: str, row_id: str, reason: str) -> None:
        super().__init__(f"cannot decrypt {table}.{column} of row {row_id}: {reason}")
        self.table, self.column, self.row_id, self.reason = table, column, row_id, reason


# ----------------------------------------------------------------- keys

def _decode_key(encoded: str) -> bytes:
    raw = base64.urlsafe_b64decode(encoded.strip().encode())
    if len(raw) != 32:
        raise ValueError("an encryption key must be 32 bytes in URL-safe base64")
    return raw


def key_id(key: bytes) -> str:
    """A short public name for a key: an HMAC of a fixed label, so it says
    nothing about the key and does not change when keys are reordered."""
    digest = hmac.new(key, b"coenforce key id v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()  # 8 characters, no padding


def _derive(key: bytes, label: str) -> bytes:
    # HKDF keeps each blind index's key apart from the encryption key and from
    # every other purpose: knowing one index key reveals nothing of the others.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(key)


@dataclass(frozen=True)
class Keyring:
    """The configured keys in order: the first encrypts, all decrypt."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_config(cls, encoded: Sequence[str]) -> Keyring:
        pairs: dict[str, bytes] = {}
        for text in encoded:
            key = _decode_key(text)
            pairs.setdefault(key_id(key), key)  # a key listed twice counts once
        if not pairs:
            raise ValueError("no encryption key is configured (COENFORCE_ENCRYPTION_KEYS)")
        return cls(tuple(pairs.items()))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key_for(self, kid: str) -> bytes | None:
        return dict(self.keys).get(kid)

    def index_key(self, purpose: str, key: bytes | None = None) -> bytes:
        return _derive(key if key is not None else self.keys[0][1], f"coenforce blind index v1: {purpose}")

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(ids={[kid for kid, _ in self.keys]})"


def keyring_for(app: Flask) -> Keyring:
    """The app's keyring, built once per distinct ENCRYPTION_KEYS value."""
    keys = tuple(app.config["ENCRYPTION_KEYS"])
    cache = app.extensions.setdefault("coenforce.keyrings", {})
    if keys not in cache:
        cache[keys] = Keyring.from_config(keys)
    return cache[keys]


def current_keyring() -> Keyring:
    if not has_app_context():
        raise RuntimeError("field encryption needs an app context: the keys come from its configuration")
    return keyring_for(current_app._get_current_object())


# ----------------------------------------------------------------- sealing

def associated_data(table: str, column: str, row_key: str) -> bytes:
    """What binds a v2 ciphertext to its place; JSON so that no two places encode alike."""
    return json.dumps(["coenforce-field", FORMAT_VERSION, table, column, row_key]).encode()


def legacy_associated_data(table: str, column: str, identity: Sequence[Any]) -> bytes:
    """What bound a v1 ciphertext to its place: the row's primary key."""
    return json.dumps(["coenforce-field", LEGACY_VERSION, table, column, [str(v) for v in identity]]).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt_value(plaintext: str, ad: bytes, keyring: Keyring) -> str:
    """Seal under the first key, as FORMAT_VERSION (`ad` from `associated_data`)."""
    kid, key = keyring.keys[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), ad)
    return f"{FORMAT_VERSION}.{kid}.{_b64(nonce + sealed)}"


def stored_version(stored: str) -> str | None:
    """The format version of a stored value, or None if it is not in one of ours."""
    parts = stored.split(".")
    return parts[0] if len(parts) == 3 and parts[0] in (FORMAT_VERSION, LEGACY_VERSION) else None


def stored_key_id(stored: str) -> str | None:
    """The key id of a stored value, or None if it is not in our format."""
    return stored.split(".")[1] if stored_version(stored) else None


def decrypt_value(stored: str, ad: bytes, keyring: Keyring, where: tuple[str, str, str]) -> str:
    """Decrypt, or raise DecryptionError naming `where` (table, column, row id).
    `ad` must be the associated data of the value's own version."""
    kid = stored_key_id(stored)
    if kid is None:
        raise DecryptionError(*where, "not a coenforce ciphertext")
    key = keyring.key_for(kid)
    if key is None:
        raise DecryptionError(*where, f"key {kid} is not among the configured keys")
    try:
        blob = _unb64(stored.split(".")[2])
    except (ValueError, binascii.Error):
        raise DecryptionError(*where, "malformed ciphertext") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(*where, "malformed ciphertext")
    try:
        plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)
    except InvalidTag:
        # `from None`: the chained exception would add nothing, and nothing here may carry data.
        raise DecryptionError(*where, "authentication failed (altered, or moved from another row or column)") from None
    return plain.decode("utf-8")


# ----------------------------------------------------------------- blind indexes

_SEPARATORS = re.compile(r"[\s\-.]+")


def normalize_text(value: str) -> str:
    """The default before indexing: separators dropped, case folded."""
    return _SEPARATORS.sub("", value).casefold()


def index_with(index_key: bytes, value: str, normalize: Normalizer = normalize_text) -> str:
    return hmac.new(index_key, normalize(value).encode("utf-8"), hashlib.sha256).hexdigest()


def blind_index(value: str, purpose: str, keyring: Keyring | None = None,
                normalize: Normalizer = normalize_text) -> str:
    """The HMAC blind index of `value` under the first key, for exact-match lookups."""
    keyring = keyring or current_keyring()
    return index_with(keyring.index_key(purpose), value, normalize)


def blind_index_candidates(value: str, purpose: str, keyring: Keyring | None = None,
                           normalize: Normalizer = normalize_text) -> list[str]:
    """The index under every configured key, the first key's first: rows
    written before a new first key was added are found until `keys rotate` runs."""
    keyring = keyring or current_keyring()
    return [index_with(keyring.index_key(purpose, key), value, normalize) for _kid, key in keyring.keys]
