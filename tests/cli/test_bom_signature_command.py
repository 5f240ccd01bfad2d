"""`steward signature verify-bom FILE`: a JSF-signed BOM checked against Steward's key or
a pinned PEM; a changed BOM, another signer and an unreadable file exit non-zero."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.cli.helpers import as_json, flat, ok, run

from steward.trust import jsf, keys

BOM = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}


def test_verify_bom_with_the_servers_key_and_a_pinned_one(tmp_path: Path) -> None:
    home = tmp_path / "store"
    info = as_json(home, "signature", "key")  # creates the governance key
    key = keys.load_or_create(home / "keys" / "signing-key.pem")
    assert key.key_id == info["key_id"]
    signed = tmp_path / "bom.cdx.json"
    signed.write_text(json.dumps(jsf.sign(BOM, key), indent=2))
    shown = flat(ok(home, "signature", "verify-bom", str(signed)).stdout)
    assert "Signature valid" in shown and info["key_id"] in shown
    pinned = tmp_path / "steward.pub"
    pinned.write_text(info["public_key"])
    found = as_json(home, "signature", "verify-bom", str(signed), "--public-key", str(pinned))
    assert found["key_id"] == info["key_id"]

    tampered = jsf.sign(BOM, key)
    tampered["version"] = 2
    signed.write_text(json.dumps(tampered))
    bad = run(home, "signature", "verify-bom", str(signed))
    assert bad.exit_code != 0 and "changed after signing" in flat(bad.output)

    other = tmp_path / "other.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signed.write_text(json.dumps(jsf.sign(BOM, keys.load(other))))
    forged = run(home, "signature", "verify-bom", str(signed))
    assert forged.exit_code != 0 and "another key" in flat(forged.output)

    missing = run(home, "signature", "verify-bom", str(tmp_path / "nope.json"))
    assert missing.exit_code != 0 and "Cannot read" in flat(missing.output)
    unsigned = tmp_path / "plain.json"
    unsigned.write_text(json.dumps(BOM))
    plain = run(home, "signature", "verify-bom", str(unsigned))
    assert plain.exit_code != 0 and "--sign" in flat(plain.output)
