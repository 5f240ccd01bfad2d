"""JSF enveloped signatures (what CycloneDX 1.6 embeds): sign, verify, and every way a
signed document can be wrong is caught."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steward.domain.errors import IntegrityError, InvalidInput
from steward.trust import jsf, keys

DOC = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "b": ["é", True, None]}


def _key(tmp_path: Path, curve: ec.EllipticCurve, name: str) -> keys.SigningKey:
    pem = ec.generate_private_key(curve).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / name
    path.write_bytes(pem)
    return keys.load(path)


@pytest.mark.parametrize(
    ("curve", "alg"),
    [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384"), (ec.SECP521R1(), "ES512")],
)
def test_a_signed_document_verifies_with_its_key(
    tmp_path: Path, curve: ec.EllipticCurve, alg: str
) -> None:
    key = _key(tmp_path, curve, "k.pem")
    signed = jsf.sign(DOC, key)
    assert "signature" not in DOC  # the input is not changed
    assert signed["signature"]["algorithm"] == alg
    assert signed["signature"]["keyId"] == key.key_id
    # survives a JSON round trip with other whitespace and member order
    again = json.loads(json.dumps(dict(reversed(list(signed.items()))), indent=3))
    found = jsf.verify(again, key.public_pem)
    assert (found.key_id, found.algorithm) == (key.key_id, alg)


def test_changing_anything_after_signing_is_caught(tmp_path: Path) -> None:
    key = _key(tmp_path, ec.SECP256R1(), "k.pem")
    signed = jsf.sign(DOC, key)
    for change in (
        lambda d: d.__setitem__("version", 2),
        lambda d: d["b"].append(1),
        lambda d: d["signature"].__setitem__("keyId", "0" * 64),
    ):
        tampered = copy.deepcopy(signed)
        change(tampered)
        with pytest.raises(IntegrityError, match="changed after signing"):
            jsf.verify(tampered)


def test_a_signature_by_another_key_is_refused_when_a_key_is_trusted(tmp_path: Path) -> None:
    mine = _key(tmp_path, ec.SECP256R1(), "mine.pem")
    theirs = _key(tmp_path, ec.SECP256R1(), "theirs.pem")
    forged = jsf.sign(DOC, theirs)
    assert jsf.verify(forged).key_id == theirs.key_id  # valid, but by whom?
    with pytest.raises(IntegrityError, match="another key"):
        jsf.verify(forged, mine.public_pem)


def test_malformed_signatures_are_named(tmp_path: Path) -> None:
    key = _key(tmp_path, ec.SECP256R1(), "k.pem")
    signed = jsf.sign(DOC, key)
    with pytest.raises(IntegrityError, match="no JSF signature"):
        jsf.verify(DOC)
    wrong_alg = copy.deepcopy(signed)
    wrong_alg["signature"]["algorithm"] = "ES384"
    with pytest.raises(IntegrityError, match="needs ES256"):
        jsf.verify(wrong_alg)
    short = copy.deepcopy(signed)
    short["signature"]["value"] = base64.urlsafe_b64encode(b"x" * 10).decode().rstrip("=")
    with pytest.raises(IntegrityError, match="wrong length"):
        jsf.verify(short)
    rsa = copy.deepcopy(signed)
    rsa["signature"]["publicKey"] = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    with pytest.raises(IntegrityError, match="not an EC"):
        jsf.verify(rsa)


def test_canonical_form_is_rfc8785_for_what_a_bom_holds() -> None:
    # RFC 8785 sorts members by UTF-16 code units (so U+1F600, a surrogate pair D83D...,
    # sorts before U+FB33, unlike code-point order) and writes no whitespace.
    got = jsf.canonical({"b": [1, 2.0], "a": "ü", "\ufb33": None, "\U0001f600": 1})
    assert got == '{"a":"ü","b":[1,2],"\U0001f600":1,"\ufb33":null}'.encode()
    with pytest.raises(InvalidInput, match="integers"):
        jsf.canonical({"x": 0.1})
