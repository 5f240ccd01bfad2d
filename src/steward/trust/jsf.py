"""Enveloped JSON Signature Format (JSF 0.82) signatures, as CycloneDX 1.6 embeds them.

CycloneDX lets a BOM carry a ``signature`` member (its JSON schema references JSF
0.82). JSF signs the JCS (RFC 8785) canonical form of the whole object *with* the
signature member present but without its ``value``; the value is the raw ECDSA
signature (r || s, not DER), base64url without padding, and ``publicKey`` is the
signer's JWK so a verifier needs nothing else — it should still compare the key with
the one it trusts (``expected_public_pem``), since anyone can sign with their own key.

The canonical form here is exact RFC 8785 for what a BOM holds (objects, arrays,
strings, booleans, null, integers); a non-integral number is refused rather than
risk a serialisation that another JCS implementation would disagree with.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from steward.domain.errors import IntegrityError, InvalidInput
from steward.trust.keys import SigningKey, key_id, public_pem

# JWA names for the curves model_signing (and so Steward's key) supports.
_BY_CURVE: dict[str, tuple[str, str, int, type[hashes.HashAlgorithm]]] = {
    "secp256r1": ("ES256", "P-256", 32, hashes.SHA256),
    "secp384r1": ("ES384", "P-384", 48, hashes.SHA384),
    "secp521r1": ("ES512", "P-521", 66, hashes.SHA512),
}
_BY_CRV = {crv: (alg, size, digest, curve) for curve, (alg, crv, size, digest) in _BY_CURVE.items()}
_EC_CURVES: dict[str, ec.EllipticCurve] = {
    "secp256r1": ec.SECP256R1(),
    "secp384r1": ec.SECP384R1(),
    "secp521r1": ec.SECP521R1(),
}


@dataclass(frozen=True)
class Verified:
    key_id: str  # sha256 of the signer's PEM public key (Steward's key id)
    algorithm: str
    public_pem: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON (members sorted by UTF-16 code units, no whitespace)."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs(k)}:{_jcs(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    raise InvalidInput(
        f"Cannot sign a JSON number {value!r}: only integers are canonicalised exactly.",
        field="document",
    )


def _jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    _, crv, size, _ = _BY_CURVE[key.curve.name]
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": crv,
        "x": _b64(numbers.x.to_bytes(size, "big")),
        "y": _b64(numbers.y.to_bytes(size, "big")),
    }


def sign(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """``document`` with an enveloped JSF ``signature`` by ``key`` (a new dict)."""
    alg, _, size, digest = _BY_CURVE[key.private_key.curve.name]
    signed = {k: v for k, v in document.items() if k != "signature"}
    signed["signature"] = {
        "algorithm": alg,
        "keyId": key.key_id,
        "publicKey": _jwk(key.private_key.public_key()),
    }
    der = key.private_key.sign(canonical(signed), ec.ECDSA(digest()))
    r, s = decode_dss_signature(der)
    signed["signature"]["value"] = _b64(r.to_bytes(size, "big") + s.to_bytes(size, "big"))
    return signed


def verify(document: dict[str, Any], expected_public_pem: str | None = None) -> Verified:
    """Check ``document``'s enveloped JSF signature; with ``expected_public_pem``, also
    that the signer is that key. Raises :class:`IntegrityError` saying what failed."""
    sig = document.get("signature")
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        raise IntegrityError(
            "The document carries no JSF signature; export it signed "
            "(`steward version bom NAME VERSION --sign`)."
        )
    jwk = sig.get("publicKey")
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") not in _BY_CRV:
        raise IntegrityError("The signature's publicKey is not an EC P-256/384/521 JWK.")
    alg, size, digest, curve = _BY_CRV[str(jwk["crv"])]
    if sig.get("algorithm") != alg:
        raise IntegrityError(f"The signature says {sig.get('algorithm')!r}; its key needs {alg}.")
    try:
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(_unb64(str(jwk["x"])), "big"),
            int.from_bytes(_unb64(str(jwk["y"])), "big"),
            _EC_CURVES[curve],
        ).public_key()
        raw = _unb64(sig["value"])
    except (ValueError, KeyError) as exc:
        raise IntegrityError(f"The signature's key or value is malformed ({exc}).") from exc
    if len(raw) != 2 * size:
        raise IntegrityError("The signature value has the wrong length for its algorithm.")
    unsigned = dict(document)
    unsigned["signature"] = {k: v for k, v in sig.items() if k != "value"}
    der = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
    try:
        public.verify(der, canonical(unsigned), ec.ECDSA(digest()))
    except InvalidSignature as exc:
        raise IntegrityError(
            "The JSF signature does not match the document: it was changed after signing."
        ) from exc
    pem = public_pem(public)
    if expected_public_pem is not None:
        expected = serialization.load_pem_public_key(expected_public_pem.encode())
        if public_pem(expected) != pem:  # type: ignore[arg-type]
            raise IntegrityError(
                "The document is signed by another key than the one you trust "
                f"(signer {key_id(pem)[:16]}…)."
            )
    return Verified(key_id(pem), alg, pem)
