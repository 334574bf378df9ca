"""Payload encryption for Temporal: workflow and activity payloads carry subject identities.

AES-256-GCM per payload, with the key id in the payload's metadata so that, after a key
rotation, payloads written under an older key still decrypt. Decoding refuses a payload that
is not encrypted: a plain-JSON signal typed into the Temporal UI or CLI must not settle a
system. It becomes a ``binary/refused-unencrypted`` payload no converter reads, so the SDK
drops that signal (an update is rejected) rather than failing the whole workflow task, which
would wedge the workflow. The UI's codec endpoint shows plain payloads as they are
(``for_display``). Keys come from
``PRIVACY_CODEC_KEYS`` (``id:base64key,...``, the first encrypts) or, on the dev stack,
from ``<state>/codec-keys.json``, created once with mode 0600.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import temporalio.converter
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
REFUSED = b"binary/refused-unencrypted"
KEY_ID = "encryption-key-id"
KEYS_ENV = "PRIVACY_CODEC_KEYS"

log = logging.getLogger(__name__)


class AesGcmCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes], current: str, *, accept_plain: bool = False) -> None:
        if current not in keys:
            raise ValueError(f"codec key {current!r} is not among the keys")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current
        self._accept_plain = accept_plain

    def for_display(self) -> AesGcmCodec:
        """The same keys, decoding plain payloads as they are: for a DPO reading the UI only."""
        codec = copy.copy(self)
        codec._accept_plain = True
        return codec

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._current]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(12)
            data = nonce + cipher.encrypt(nonce, payload.SerializeToString(), self._current.encode())
            encoded.append(
                Payload(metadata={"encoding": ENCODING, KEY_ID: self._current.encode()}, data=data)
            )
        return encoded

    def seal(self, data: bytes, context: str) -> tuple[str, bytes]:
        """Encrypt data kept outside Temporal (a claim check); ``context`` is bound to it."""
        nonce = os.urandom(12)
        cipher = self._ciphers[self._current]
        return self._current, nonce + cipher.encrypt(nonce, data, f"{self._current}|{context}".encode())

    def unseal(self, key_id: str, blob: bytes, context: str) -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"data sealed with unknown key id {key_id!r}")
        return cipher.decrypt(blob[:12], blob[12:], f"{key_id}|{context}".encode())

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                if not self._accept_plain:
                    log.warning("refused an unencrypted payload (%s)", payload.metadata.get("encoding"))
                    payload = Payload(metadata={"encoding": REFUSED})
                decoded.append(payload)
                continue
            key_id = payload.metadata[KEY_ID].decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise ValueError(f"payload encrypted with unknown key id {key_id!r}")
            plain = cipher.decrypt(payload.data[:12], payload.data[12:], key_id.encode())
            decoded.append(Payload.FromString(plain))
        return decoded


def parse_keys(spec: str) -> tuple[dict[str, bytes], str]:
    """``id:base64key,id2:base64key`` → keys and the current (first) id."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, encoded = item.partition(":")
        key = base64.b64decode(encoded)
        if len(key) != 32:
            raise ValueError(f"{KEYS_ENV}: key {key_id!r} must be 32 bytes (base64 of AES-256)")
        keys[key_id] = key
        order.append(key_id)
    if not order:
        raise ValueError(f"{KEYS_ENV} holds no key")
    return keys, order[0]


def _dev_keys(state_dir: Path) -> tuple[dict[str, bytes], str]:
    path = state_dir / "codec-keys.json"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"current": "dev-1", "keys": {"dev-1": base64.b64encode(os.urandom(32)).decode()}}, out)
    stored = json.loads(path.read_text())
    return {k: base64.b64decode(v) for k, v in stored["keys"].items()}, stored["current"]


def codec_from_environment(state_dir: Path) -> AesGcmCodec:
    spec = os.environ.get(KEYS_ENV)
    keys, current = parse_keys(spec) if spec else _dev_keys(state_dir)
    return AesGcmCodec(keys, current)


def encrypted_converter(codec: PayloadCodec) -> DataConverter:
    return dataclasses.replace(temporalio.converter.default(), payload_codec=codec)
