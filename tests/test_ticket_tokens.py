"""Ticket tokens: COSE_Sign1 over CBOR claims, the TX1: text, the offline verifier, the key
ring and its rotation, signed revocation lists, QR codes."""

from __future__ import annotations

import ast
import base64
import multiprocessing
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from transit.tickets.claims import ClaimsError, TicketClaims
from transit.tickets.cose import SigningKey, sign1
from transit.tickets.keyring import KeyRing, kid_of
from transit.tickets.qr import ticket_qr
from transit.tickets.qrtext import PREFIX, decode, encode
from transit.tickets.revocation import RevocationError, sign_revocations, verify_revocations
from transit.tickets.token import issue_text, sign, text_of
from transit.tickets.verify import TrustedKey, trusted_keys, verify_cose, verify_text

T0 = 1_535_554_800  # 2018-08-29T15:00:00Z: the first departure of the sample journey
ROOT = Path(__file__).resolve().parents[1]


def sample(**changes: object) -> TicketClaims:
    values: dict[str, object] = dict(
        ticket_id="tkt_7Hq2mZ9xKp4vR1sTb3Nw", product_id="BA:adult-single",
        product_name="BART single ride", rider_category="adult", travellers=1,
        valid_from=T0 - 1800, valid_until=T0 + 3600, operators=("BA",),
        zones=("BA:12TH", "BA:EMBR"), issued_at=T0 - 2000)
    values.update(changes)
    return TicketClaims(**values)  # type: ignore[arg-type]


def fixed_key(seed: int = 1, kid: str | None = None) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    raw = private.public_key().public_bytes_raw()
    return SigningKey(kid or kid_of(raw), private)


def keys_of(*keys: SigningKey) -> dict[str, TrustedKey]:
    return {k.kid: TrustedKey(k.private_key.public_key()) for k in keys}


KEY = fixed_key()
COSE = sign(sample(), KEY)
TEXT = text_of(COSE)


# -- round trip, the bytes -----------------------------------------------------------------

def test_a_signed_ticket_verifies_with_its_claims() -> None:
    got = verify_text(TEXT, keys_of(KEY), T0)
    assert (got.valid, got.reasons, got.kid) == (True, [], KEY.kid)
    assert got.claims == sample()
    assert TEXT.startswith("TX1:") and len(TEXT) == 301
    assert decode(TEXT) == COSE


def test_the_token_is_the_cose_sign1_of_rfc_9052() -> None:
    """Tag 18, protected {1: -8, 4: kid}, empty unprotected, the claims map, and an Ed25519
    signature over ["Signature1", protected, h'', payload], checked here by hand."""
    tag = cbor2.loads(COSE)
    assert tag.tag == 18
    protected, unprotected, payload, signature = tag.value
    assert cbor2.loads(protected) == {1: -8, 4: KEY.kid.encode()}
    assert dict(unprotected) == {}
    assert cbor2.loads(payload) == {0: 1, 1: "tkt_7Hq2mZ9xKp4vR1sTb3Nw", 2: "BA:adult-single",
                                    3: "BART single ride", 4: "adult", 5: 1, 6: T0 - 1800,
                                    7: T0 + 3600, 8: ["BA"], 9: ["BA:12TH", "BA:EMBR"],
                                    10: T0 - 2000}
    KEY.private_key.public_key().verify(
        signature, cbor2.dumps(["Signature1", protected, b"", payload]))
    assert zlib.decompress(base45.b45decode(TEXT[4:])) == COSE


def test_the_default_rider_has_no_category_claim() -> None:
    cose = sign(sample(rider_category=None), KEY)
    assert 4 not in cbor2.loads(cbor2.loads(cose).value[2])
    got = verify_cose(cose, keys_of(KEY), T0)
    assert got.valid and got.claims is not None and got.claims.rider_category is None


@pytest.mark.parametrize(("change", "message"), [
    ({"travellers": 0}, "travellers must be an integer from 1 to 99"),
    ({"ticket_id": ""}, "ticket_id must be a text of 1 to 200 characters"),
    ({"operators": ()}, "operators must name at least one"),
    ({"valid_until": T0 - 3600}, "valid_until is before valid_from"),
    ({"valid_from": 1.5}, "valid_from must be an integer from 0 to 1099511627776"),
])
def test_claims_that_mean_nothing_are_refused_when_made(change: dict, message: str) -> None:
    with pytest.raises(ClaimsError, match=message):
        sample(**change)


# -- tampering -----------------------------------------------------------------------------

def test_every_bit_flip_of_the_cose_bytes_fails() -> None:
    keys = keys_of(KEY)
    passed = []
    for i in range(len(COSE)):
        for bit in range(8):
            changed = bytearray(COSE)
            changed[i] ^= 1 << bit
            got = verify_cose(bytes(changed), keys, T0)
            if got.valid or got.claims is not None or len(got.reasons) != 1:
                passed.append((i, bit, got.reasons))
            # and the same bytes through the text form
            if verify_text(text_of(bytes(changed)), keys, T0).valid:
                passed.append((i, bit, "text"))
    assert passed == []
    assert len(COSE) == 200


def test_every_bit_flip_of_the_text_fails() -> None:
    keys = keys_of(KEY)
    reasons: dict[str, int] = {}
    for i in range(len(TEXT)):
        for bit in range(8):
            changed = TEXT[:i] + chr(ord(TEXT[i]) ^ (1 << bit)) + TEXT[i + 1:]
            got = verify_text(changed, keys, T0)
            assert not got.valid and got.claims is None, (i, bit, got)
            kind = got.reasons[0].split(":")[0]
            reasons[kind] = reasons.get(kind, 0) + 1
    assert sum(reasons.values()) == 8 * len(TEXT)
    assert set(reasons) <= {"bad prefix", "bad base45", "not zlib", "not COSE_Sign1",
                            "bad signature", "unknown key id", "malformed claims"}
    assert reasons["bad prefix"] == 8 * 4  # the four characters of TX1:


def test_padding_bits_after_the_deflate_stream_are_refused() -> None:
    """The bits after the end code are never read by inflate: set one and the ticket would
    come out the same from another text. zlib writes them as zeros; a set one is refused."""
    compressed = bytearray(zlib.compress(COSE, 9))
    padding = 0
    for bit in range(7, -1, -1):
        flipped = bytearray(compressed)
        flipped[-5] ^= 1 << bit
        d = zlib.decompressobj()
        if d.decompress(bytes(flipped)) != COSE or not d.eof:
            break  # this bit is read
        text = PREFIX + base45.b45encode(bytes(flipped)).decode()
        got = verify_text(text, keys_of(KEY), T0)
        assert got.reasons == ["not zlib: padding bits after the end of the stream are set"]
        padding += 1
    assert padding == 4  # the sample's last block ends 4 bits into its last byte


def test_truncated_tokens_fail() -> None:
    keys = keys_of(KEY)
    for n in range(len(TEXT)):
        assert not verify_text(TEXT[:n], keys, T0).valid, n
    for n in range(len(COSE)):
        assert not verify_cose(COSE[:n], keys, T0).valid, n
    assert verify_text(TEXT + "0", keys, T0).reasons[0].startswith("bad base45")
    assert verify_cose(COSE + b"\x00", keys, T0).reasons == [
        "not COSE_Sign1: the message is not in its shortest CBOR encoding, or has trailing "
        "bytes"]


def test_a_zip_bomb_is_not_inflated() -> None:
    bomb = PREFIX + base45.b45encode(zlib.compress(b"\x00" * 1_000_000, 9)).decode()
    assert verify_text(bomb, keys_of(KEY), T0).reasons == [
        "not zlib: the data is not one complete zlib stream of at most 8192 bytes"]


@pytest.mark.parametrize("raw", [
    b"\x81" * 8000 + b"\x00",  # arrays nested 8000 deep
    b"\xd2" * 8000 + b"\x00",  # tags nested 8000 deep
    b"\xd2\x84\x5b" + (2**63).to_bytes(8, "big"),  # a byte string of 2^63 bytes
    b"\xd2\x84\x40\xa0\x40\x5f\x41\x00\xff",  # indefinite-length signature
    b"\xd2\x84\x40\xa0\x40\x58\x40" + b"\x00" * 64,  # empty protected header
])
def test_hostile_cbor_is_refused_without_harm(raw: bytes) -> None:
    for got in (verify_cose(raw, keys_of(KEY), T0), verify_text(encode(raw), keys_of(KEY), T0)):
        assert not got.valid and got.claims is None
        assert got.reasons[0].startswith("not COSE_Sign1: "), got.reasons


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(raw=st.binary(max_size=300), text=st.text(max_size=300))
def test_arbitrary_input_is_invalid_never_an_error(raw: bytes, text: str) -> None:
    keys = keys_of(KEY)
    assert not verify_cose(raw, keys, T0).valid
    assert not verify_text(encode(raw), keys, T0).valid
    assert not verify_text(text, keys, T0).valid
    assert not verify_text(PREFIX + text, keys, T0).valid
    with pytest.raises(RevocationError):
        verify_revocations(raw, keys)

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(text=st.text(alphabet=B45, max_size=40), raw=st.binary(max_size=60))
def test_the_base45_decoder_is_the_reference_one(text: str, raw: bytes) -> None:
    """qrtext.b45decode (fast) answers what base45.b45decode does, valid or not."""
    from transit.tickets.qrtext import b45decode

    try:
        expected: bytes | None = base45.b45decode(text)
    except ValueError:
        expected = None
    assert b45decode(text) == expected
    assert b45decode(base45.b45encode(raw).decode()) == raw
    for bad in ("0", "GGW", "ZZZ", ":::", "::", "00::", "A" * 4):  # 3n+1, >65535, >255
        assert b45decode(bad) is None, bad


def test_resigned_with_another_key_of_the_same_kid_is_a_bad_signature() -> None:
    forged = text_of(sign(sample(travellers=4), fixed_key(2, kid=KEY.kid)))
    got = verify_text(forged, keys_of(KEY), T0)
    assert (got.valid, got.claims, got.reasons) == (
        False, None, [f"bad signature: not signed by key {KEY.kid}"])


def test_an_unknown_key_id() -> None:
    other = fixed_key(3)
    got = verify_text(text_of(sign(sample(), other)), keys_of(KEY), T0)
    assert got.reasons == [f"unknown key id {other.kid}: not among the 1 known keys"]
    assert got.kid == other.kid and got.claims is None


def test_a_payload_that_is_not_claims_is_refused_even_when_signed() -> None:
    cose = sign1(cbor2.dumps({0: 1, 1: "t", 99: "x"}), KEY)
    assert verify_cose(cose, keys_of(KEY), T0).reasons == [
        "malformed claims: the payload lacks claim(s) [2, 3, 5, 6, 7, 8, 9, 10]"]
    cose = sign1(cbor2.dumps(sample().to_map() | {11: 0}), KEY)
    assert verify_cose(cose, keys_of(KEY), T0).reasons == [
        "malformed claims: the payload has unknown claim(s) [11]"]


# -- validity, place, revocation -----------------------------------------------------------

@pytest.mark.parametrize(("at", "reasons"), [
    (T0 - 1801, ["not yet valid: valid from 2018-08-29T14:30:00Z"]),
    (T0 - 1800, []),
    (T0 + 3600, []),
    (T0 + 3601, ["expired: valid until 2018-08-29T16:00:00Z"]),
])
def test_the_validity_window_is_inclusive(at: int, reasons: list[str]) -> None:
    got = verify_text(TEXT, keys_of(KEY), at)
    assert (got.valid, got.reasons) == (not reasons, reasons)
    assert got.claims == sample()  # authentic, just not valid now


def test_operator_zone_and_revocation() -> None:
    keys = keys_of(KEY)
    assert verify_text(TEXT, keys, T0, operator="BA", zone="BA:EMBR").valid
    got = verify_text(TEXT, keys, T0, revoked={"tkt_7Hq2mZ9xKp4vR1sTb3Nw"},
                      operator="SC", zone="BA:MONT")
    assert got.reasons == [
        "wrong operator: valid on BA, not SC",
        "wrong zone: valid in BA:12TH, BA:EMBR, not BA:MONT",
        "revoked: ticket tkt_7Hq2mZ9xKp4vR1sTb3Nw was refunded or cancelled"]
    anywhere = text_of(sign(sample(zones=()), KEY))
    assert verify_text(anywhere, keys, T0, zone="BA:MONT").valid


def test_a_jwks_is_accepted_as_keys_and_its_not_after_retires_a_key() -> None:
    x = base64.urlsafe_b64encode(KEY.private_key.public_key().public_bytes_raw()).rstrip(b"=")
    jwk = {"kty": "OKP", "crv": "Ed25519", "kid": KEY.kid, "x": x.decode()}
    assert verify_text(TEXT, {"keys": [jwk]}, T0).valid
    assert verify_text(TEXT, {"keys": [jwk | {"not_after": T0 + 3600}]}, T0).valid
    got = verify_text(TEXT, {"keys": [jwk | {"not_after": T0 - 60}]}, T0)
    assert got.reasons == [f"retired key {KEY.kid}: accepted until 2018-08-29T14:59:00Z"]
    # a ticket valid past the key's last one: signed after the key stopped signing
    got = verify_text(TEXT, {"keys": [jwk | {"not_after": T0 + 60}]}, T0)
    assert got.reasons == [f"retired key {KEY.kid}: it signs no ticket valid after "
                           "2018-08-29T15:01:00Z"]
    with pytest.raises(ValueError, match=f"key {KEY.kid}: x is not 32 bytes"):
        trusted_keys({"keys": [jwk | {"x": "AAAA"}]})
    rsa = {"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"}  # another kind: skipped
    assert list(trusted_keys({"keys": [rsa, jwk]})) == [KEY.kid]


# -- the key ring --------------------------------------------------------------------------

def test_the_key_ring_keeps_secrets_in_files_only_its_owner_reads(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    text = issue_text(sample(), ring)
    [key] = ring.keys(T0)
    assert (key.status, key.created_at, key.last_valid_until) == ("active", T0 - 2000, T0 + 3600)
    assert verify_text(text, ring.jwks(T0), T0).kid == key.kid
    assert verify_text(text, ring.verification_keys(T0), T0).valid
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    files = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "keys").iterdir()}
    assert files == {".lock": 0o600, "keyring.json": 0o600, f"{key.kid}.pem": 0o600}
    assert b"PRIVATE KEY" not in (tmp_path / "keys" / "keyring.json").read_bytes()


def test_rotation_old_key_verifies_until_its_last_ticket_expires(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    other_process = KeyRing(tmp_path / "keys")  # its own cache of private keys
    early = issue_text(sample(ticket_id="tkt_early", valid_until=T0 + 600), ring)
    late = issue_text(sample(ticket_id="tkt_late", valid_until=T0 + 7200), other_process)
    [first] = ring.keys(T0)
    new_kid = ring.rotate(T0)
    after = issue_text(sample(ticket_id="tkt_after", valid_until=T0 + 9000), other_process)
    assert verify_text(after, ring.jwks(T0), T0).kid == new_kid != first.kid

    jwks = ring.jwks(T0)
    assert [(k["kid"], k["not_after"]) for k in jwks["keys"]] == [
        (new_kid, None), (first.kid, T0 + 7200)]
    for text in (early, late, after):
        assert verify_text(text, jwks, T0).valid
    at_end = ring.jwks(T0 + 7200)
    assert verify_text(late, at_end, T0 + 7200).valid  # its last second
    past = ring.jwks(T0 + 7201)
    assert [k["kid"] for k in past["keys"]] == [new_kid]
    assert verify_text(late, past, T0 + 7201).reasons[0] == (
        f"unknown key id {first.kid}: not among the 1 known keys")
    assert verify_text(after, past, T0 + 7201).valid
    # a verifier that cached the JWKS before the end knows the key is retired
    assert verify_text(late, jwks, T0 + 7201).reasons == [
        f"retired key {first.kid}: accepted until 2018-08-29T17:00:00Z",
        "expired: valid until 2018-08-29T17:00:00Z"]
    assert [(k.kid, k.status) for k in ring.keys(T0 + 7201)] == [
        (new_kid, "active"), (first.kid, "retired")]
    assert not (tmp_path / "keys" / f"{first.kid}.pem").exists()  # deleted once retired


def test_a_key_rotated_before_it_signed_anything_retires_at_once(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    first = ring.rotate(T0)
    second = ring.rotate(T0 + 10)
    assert [(k.kid, k.status, k.not_after) for k in ring.keys(T0 + 11)] == [
        (second, "active", None), (first, "retired", T0 + 10)]


class _Locks:
    """Counts the key ring's file locks (each is a read, and maybe a write, of its state)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import fcntl

        from transit.tickets import keyring

        self.count = 0
        real = fcntl.flock

        def flock(fd: int, op: int) -> None:
            self.count += 1
            real(fd, op)

        monkeypatch.setattr(keyring.fcntl, "flock", flock)


def test_signing_is_bound_per_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ticket of an hour reads the ring and reserves its validity rounded up to
    the hour; the tickets after it in that hour that the reservation covers are signed
    without the lock, and write nothing."""
    ring = KeyRing(tmp_path / "keys")
    locks = _Locks(monkeypatch)
    hour = T0 - 3600  # issued at T0 - 2000: the hour from 14:00Z
    first = issue_text(sample(valid_until=T0 + 1800), ring)
    assert locks.count == 1
    [key] = ring.keys(T0)
    assert key.last_valid_until == T0 + 3600  # 15:30Z reserved up to 16:00Z
    state = (tmp_path / "keys" / "keyring.json").read_bytes()
    locks.count = 0
    texts = [issue_text(sample(ticket_id=f"tkt_{i}", valid_until=T0 + 1800 + i,
                               issued_at=hour + 1 + i), ring) for i in range(1800)]
    assert locks.count == 0 and (tmp_path / "keys" / "keyring.json").read_bytes() == state
    jwks = ring.jwks(T0)
    assert {verify_text(t, jwks, T0).kid for t in (first, *texts)} == {key.kid}
    locks.count = 0
    issue_text(sample(valid_until=T0 + 3601, issued_at=hour + 5), ring)  # beyond: reserve
    issue_text(sample(valid_until=T0 + 3602, issued_at=T0), ring)  # the next hour: bind
    assert locks.count == 2
    assert [k.last_valid_until for k in ring.keys(T0)] == [T0 + 7200]
    locks.count = 0
    issue_text(sample(valid_until=T0 + 7000, issued_at=T0 - 1), ring)  # an earlier hour
    assert locks.count == 1


def test_a_rotation_is_followed_at_once_here_and_within_the_hour_elsewhere(
        tmp_path: Path) -> None:
    ring, other = KeyRing(tmp_path / "keys"), KeyRing(tmp_path / "keys")
    issue_text(sample(valid_until=T0 + 600, issued_at=T0), other)  # bound for 15:00Z
    [old] = ring.keys(T0)
    new_kid = ring.rotate(T0 + 10)
    # the rotating process signs with the new key at once
    here = issue_text(sample(valid_until=T0 + 900, issued_at=T0 + 20), ring)
    # the other one keeps its bound key for tickets its reservation covers...
    there = issue_text(sample(valid_until=T0 + 900, issued_at=T0 + 20), other)
    jwks = ring.jwks(T0 + 20)
    assert (verify_text(here, jwks, T0 + 20).kid, verify_text(there, jwks, T0 + 20).kid) \
        == (new_kid, old.kid)
    # ...which the old key's published validity covers: it verifies as long as the ticket
    assert [(k["kid"], k["not_after"]) for k in jwks["keys"]] == [
        (new_kid, None), (old.kid, T0 + 3600)]
    assert verify_text(there, ring.jwks(T0 + 900), T0 + 900).valid
    # a ticket beyond the reservation, or the next hour, binds the new key
    longer = issue_text(sample(valid_until=T0 + 3601, issued_at=T0 + 30), other)
    assert verify_text(longer, ring.jwks(T0 + 30), T0 + 30).kid == new_kid
    other2 = KeyRing(tmp_path / "keys")
    issue_text(sample(valid_until=T0 + 600, issued_at=T0 + 40), other2)
    ring.rotate(T0 + 50)
    later = issue_text(sample(valid_until=T0 + 7300, issued_at=T0 + 3600), other2)
    assert verify_text(later, ring.jwks(T0 + 3600), T0 + 3600).kid == ring.keys(T0)[0].kid


def _issue_many(directory: str, worker: int) -> list[str]:
    ring = KeyRing(Path(directory))
    return [issue_text(sample(ticket_id=f"tkt_{worker}_{i}",
                              valid_until=T0 + 3600 * worker + i), ring) for i in range(25)]


def test_processes_issuing_at_once_share_one_key(tmp_path: Path) -> None:
    """Four processes start on an empty directory: one key is made, every ticket is signed
    by it, and it records the latest validity any of them signed (rounded up to the
    hour: worker 3's last ticket, valid until T0 + 3 h 24 s)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        texts = [t for batch in pool.starmap(_issue_many, [(str(tmp_path / "k"), w)
                                                          for w in range(4)]) for t in batch]
    ring = KeyRing(tmp_path / "k")
    [key] = ring.keys(T0)
    assert key.last_valid_until == T0 + 4 * 3600
    jwks = ring.jwks(T0)
    assert {verify_text(t, jwks, T0).kid for t in texts} == {key.kid}
    assert len(texts) == 100


# -- revocation lists ----------------------------------------------------------------------

def test_a_revocation_list_round_trips_and_answers_its_cursor(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    blob = sign_revocations(["tkt_a", "tkt_b"], "0", "c42", ring, now=T0)
    jwks = ring.jwks(T0)
    assert verify_revocations(blob, jwks) == (["tkt_a", "tkt_b"], "c42")
    assert verify_revocations(blob, jwks, since="0") == (["tkt_a", "tkt_b"], "c42")
    with pytest.raises(RevocationError, match="the list answers cursor '0', not 'c42'"):
        verify_revocations(blob, jwks, since="c42")
    assert verify_revocations(sign_revocations([], "c42", "c42", ring), jwks) == ([], "c42")
    [key] = ring.keys(T0)
    assert key.last_valid_until is None  # a list is no ticket: it keeps no key alive


def test_a_tampered_revocation_list_fails(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    blob = sign_revocations(["tkt_a", "tkt_b"], "0", "c42", ring, now=T0)
    jwks = ring.jwks(T0)
    for i in range(len(blob)):
        for bit in range(8):
            changed = bytearray(blob)
            changed[i] ^= 1 << bit
            with pytest.raises(RevocationError):
                verify_revocations(bytes(changed), jwks)
    with pytest.raises(RevocationError, match="bad signature"):
        forged = sign_revocations([], "0", "c99", KeyRing(tmp_path / "other"), now=T0)
        other_kid = cbor2.loads(cbor2.loads(forged).value[0])[4].decode()
        verify_revocations(forged, {other_kid: jwks["keys"][0] | {"kid": other_kid}})


def test_tickets_and_revocation_lists_are_not_taken_for_each_other(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    blob = sign_revocations(["tkt_a"], "0", "1", ring, now=T0)
    ticket = issue_text(sample(), ring)
    jwks = ring.jwks(T0)
    with pytest.raises(RevocationError,
                       match=re.escape("protected header is not {alg, content type")):
        verify_revocations(decode(ticket), jwks)
    assert verify_text(encode(blob), jwks, T0).reasons == [
        "not COSE_Sign1: the protected header is not {alg, kid}"]


# -- QR ------------------------------------------------------------------------------------

def test_the_qr_code_is_alphanumeric_level_q_and_decodes_to_the_text() -> None:
    import numpy as np
    import zxingcpp

    qr = ticket_qr(TEXT)
    assert (qr.mode, qr.error, qr.version, qr.modules) == ("alphanumeric", "Q", 13, 69)
    image = np.array([[0 if dark else 255 for dark in row]
                      for row in qr.code.matrix_iter(scale=3, border=4)], dtype=np.uint8)
    [found] = zxingcpp.read_barcodes(image)
    assert (found.text, found.format) == (TEXT, zxingcpp.BarcodeFormat.QRCode)
    png = qr.png(scale=4)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20]) == int.from_bytes(png[20:24]) == (69 + 8) * 4
    svg = qr.svg(scale=4)
    assert svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg" width="308" '
                          b'height="308"')
    with pytest.raises(ValueError, match="not QR alphanumeric"):
        ticket_qr("tx1:lowercase")


# -- the verifier stands alone -------------------------------------------------------------

STANDALONE = ("claims.py", "cose.py", "qrtext.py", "verify.py", "revocation.py")


def test_the_verifier_imports_only_the_standard_library_and_three_packages() -> None:
    allowed = {"cbor2", "cryptography", "base45", "__future__"} | set(sys.stdlib_module_names)
    for name in STANDALONE:
        tree = ast.parse((ROOT / "transit" / "tickets" / name).read_text())
        for block in ast.walk(tree):  # annotations only: never imported when running
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
                block.body = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # a sibling: must be one of the standalone modules
                    assert f"{node.module}.py" in STANDALONE, (name, node.module)
                    continue
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed, (name, roots)


def test_the_verifier_runs_copied_into_another_package(tmp_path: Path) -> None:
    """An inspector app copies the modules under its own package name; no transit."""
    pkg = tmp_path / "inspector_app" / "tickets"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    for name in STANDALONE:
        shutil.copy(ROOT / "transit" / "tickets" / name, pkg / name)
    raw = KEY.private_key.public_key().public_bytes_raw().hex()
    script = (
        "import sys; sys.path.insert(0, '.')\n"
        "from inspector_app.tickets.verify import verify_text\n"
        "from inspector_app.tickets.revocation import verify_revocations\n"
        f"r = verify_text(sys.argv[1], {{{KEY.kid!r}: bytes.fromhex({raw!r})}}, {T0})\n"
        "assert not any(m.startswith('transit') for m in sys.modules), 'transit imported'\n"
        "print(r.valid, r.claims.ticket_id, r.reasons)\n")
    done = subprocess.run([sys.executable, "-I", "-c", script, TEXT], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "True tkt_7Hq2mZ9xKp4vR1sTb3Nw []\n"), \
        done.stderr

