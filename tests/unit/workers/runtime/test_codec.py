"""The payload codec encrypts, decrypts under rotated keys, and refuses unknown keys."""

import base64
import os

import pytest
import temporalio.converter
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from workers.runtime.codec import AesGcmCodec, codec_from_environment, parse_keys


def _payload(text: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text)


async def test_roundtrip_hides_the_plaintext():
    codec = AesGcmCodec({"k1": os.urandom(32)}, "k1")
    [encoded] = await codec.encode([_payload(b'{"email": "ada@example.org"}')])
    assert b"ada@example.org" not in encoded.SerializeToString()
    assert encoded.metadata["encryption-key-id"] == b"k1"
    [decoded] = await codec.decode([encoded])
    assert decoded.data == b'{"email": "ada@example.org"}'


async def test_old_keys_still_decrypt_after_rotation():
    old, new = os.urandom(32), os.urandom(32)
    [written] = await AesGcmCodec({"k1": old}, "k1").encode([_payload(b"x")])
    rotated = AesGcmCodec({"k2": new, "k1": old}, "k2")
    assert (await rotated.decode([written]))[0].data == b"x"
    assert (await rotated.encode([_payload(b"y")]))[0].metadata["encryption-key-id"] == b"k2"


async def test_unknown_key_and_tampering_are_refused():
    [written] = await AesGcmCodec({"k1": os.urandom(32)}, "k1").encode([_payload(b"x")])
    with pytest.raises(ValueError, match="unknown key"):
        await AesGcmCodec({"k9": os.urandom(32)}, "k9").decode([written])
    codec = AesGcmCodec({"k1": os.urandom(32)}, "k1")
    [mine] = await codec.encode([_payload(b"x")])
    mine.data = mine.data[:-1] + bytes([mine.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await codec.decode([mine])


def test_keys_from_environment_and_dev_file(tmp_path, monkeypatch):
    key = base64.b64encode(os.urandom(32)).decode()
    keys, current = parse_keys(f"new:{key}, old:{key}")
    assert current == "new" and set(keys) == {"new", "old"}
    with pytest.raises(ValueError, match="32 bytes"):
        parse_keys("short:" + base64.b64encode(b"abc").decode())
    monkeypatch.delenv("PRIVACY_CODEC_KEYS", raising=False)
    codec_from_environment(tmp_path)
    assert (tmp_path / "codec-keys.json").stat().st_mode & 0o777 == 0o600


async def test_an_unencrypted_payload_is_refused_so_a_plain_signal_cannot_settle_a_system():
    """A plain-JSON signal from the Temporal UI or CLI decodes to a payload no converter reads:
    the SDK drops the signal instead of handing the workflow a forged confirmation."""
    codec = AesGcmCodec({"k1": os.urandom(32)}, "k1")
    [refused] = await codec.decode([_payload(b'{"outcome": "erased"}')])
    assert refused.metadata["encoding"] == b"binary/refused-unencrypted"
    assert refused.data == b""
    with pytest.raises(KeyError, match="refused-unencrypted"):
        temporalio.converter.default().payload_converter.from_payloads([refused])


async def test_the_ui_codec_endpoint_still_shows_plain_payloads_and_decrypts_ours():
    codec = AesGcmCodec({"k1": os.urandom(32)}, "k1")
    [encrypted] = await codec.encode([_payload(b'"ours"')])
    plain = _payload(b'"a memo"')
    shown = await codec.for_display().decode([plain, encrypted])
    assert [p.data for p in shown] == [b'"a memo"', b'"ours"']
    [still_refused] = await codec.decode([plain])  # the strict codec is unchanged
    assert still_refused.metadata["encoding"] == b"binary/refused-unencrypted"
