"""The check-digit validators of the personal-data scan, each with valid numbers in their
real formats and the same numbers with one digit wrong; and the scan's detections."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from steward.domain.personal_data import Category
from steward.validation import personal_data as pii

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def test_taiwan_national_ids_pass_only_with_their_check_digit() -> None:
    valid = ["A123456789", "a123456789", " B120863158 ", "F131104093", "Z299999992"]
    assert pii.tw_national_id(valid).tolist() == [True] * len(valid)
    wrong = ["A123456788", "B120863159", "A323456789", "A12345678", "1123456789", "AA23456789"]
    assert pii.tw_national_id(wrong).tolist() == [False] * len(wrong)
    assert pii.tw_national_id([]).tolist() == []


def test_taiwan_resident_certificates_old_and_new_format() -> None:
    # Old format: a second letter A-D (its code's last digit counts); new (2021): 8 or 9.
    valid = ["AA00000009", "FA12345689", "A800000014", "A900000016"]
    assert pii.tw_resident_id(valid).tolist() == [True] * len(valid)
    wrong = ["AA00000008", "FA12345688", "A800000015", "AE00000009", "A123456789"]
    assert pii.tw_resident_id(wrong).tolist() == [False] * len(wrong)


def test_payment_cards_pass_the_luhn_check_in_their_written_forms() -> None:
    valid = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"]
    assert pii.luhn(valid).tolist() == [True] * len(valid)
    wrong = ["4111 1111 1111 1112", "378282246310006", "12345", "4111-1111-1111-111x"]
    assert pii.luhn(wrong).tolist() == [False] * len(wrong)


def test_ibans_pass_the_mod_97_check() -> None:
    valid = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "fr1420041010050500013m02606"]
    assert pii.iban(valid).tolist() == [True] * len(valid)
    wrong = [
        "GB82 WEST 1234 5698 7654 33",
        "DE89370400440532013001",
        "TW12",
        "1289370400440532013000",
    ]
    assert pii.iban(wrong).tolist() == [False] * len(wrong)


def _found(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {
        s.column: {d.category.value: d.share for d in s.detections} for s in pii.scan(frame, NOW)
    }


def test_the_scan_detects_each_category_by_values_and_by_column_names() -> None:
    frame = pd.DataFrame(
        {
            "contact": ["ann@example.com", "bob.lee@example.org", "x", None],
            "手機": ["0912-345-678", "+886 912 345 678", "(02)2345-6789", "07-123-4567"],
            "ident": ["A123456789", "A123456788", "B120863158", "F131104093"],
            "arc": ["AA00000009", "A800000014", "zz", "zz"],
            "card": ["4111111111111111", "4111111111111112", "5500000000000004", "0"],
            "acct": ["DE89370400440532013000", "GB82WEST12345698765432", "a", "b"],
            "ip": ["10.0.0.1", "::1", "fe80::1", "300.1.1.1"],
            "date_of_birth": ["1980-01-02", "1990-03-04", "2999-01-01", "bad"],
            "宗教": ["佛教", "christian", "none", "x"],
            "customer_name": ["Ann", "Bob", "Cy", "Di"],
            "product_name": ["a", "b", "c", "d"],
            "amount": [1, 2, 3, 4],
        }
    )
    found = _found(frame)
    assert found["contact"] == {"email": round(2 / 3, 4)}
    assert found["手機"] == {"phone": 1.0}
    assert found["ident"] == {"tw_national_id": 0.75}
    assert found["arc"] == {"tw_resident_id": 0.5}
    assert found["card"] == {"payment_card": 0.5}
    assert found["acct"] == {"iban": 0.5}
    assert found["ip"] == {"ip_address": 0.75}
    assert found["date_of_birth"] == {"date_of_birth": 0.5}
    assert found["宗教"] == {"religion": 0.5}
    assert found["customer_name"] == {"name": 1.0}
    assert found["product_name"] == {} and found["amount"] == {}


def test_special_categories_are_flagged_by_english_and_chinese_column_names() -> None:
    frame = pd.DataFrame(
        {
            "diagnosis_code": ["J45"],
            "病歷": ["x"],
            "ethnicity": ["x"],
            "fingerprint_hash": ["x"],
            "criminal_record": ["x"],
            "sexual_orientation": ["x"],
            "trade_union_member": ["x"],
            "基因": ["x"],
        }
    )
    scans = {s.column: s for s in pii.scan(frame, NOW)}
    assert {c: scans[c].categories for c in scans} == {
        "diagnosis_code": ["health"],
        "病歷": ["health"],
        "ethnicity": ["ethnicity"],
        "fingerprint_hash": ["biometric"],
        "criminal_record": ["criminal"],
        "sexual_orientation": ["sex_life"],
        "trade_union_member": ["union_membership"],
        "基因": ["genetic"],
    }
    assert all(d.evidence == "name" and d.special for s in scans.values() for d in s.detections)


def test_examples_are_masked_and_a_large_table_is_sampled() -> None:
    emails = [f"person{i}@example.com" for i in range(250)]
    table = pa.table({"email": emails, "n": list(range(250))})
    scan = pii.scan(table, NOW, sample_rows=100)
    email = next(s for s in scan if s.column == "email")
    assert (email.rows, email.sampled) == (250, 100)
    assert email.detections[0].category is Category.EMAIL and email.detections[0].share == 1.0
    assert email.examples and all(e.startswith("p***@***.com") for e in email.examples)
    assert not any("person" in e for e in email.examples)


def test_a_parquet_file_is_sampled_by_position_like_the_same_table(tmp_path: Path) -> None:
    """A local Parquet dataset is sampled without a reservoir over the whole file: the
    same seeded positions as the in-memory table, so the same scan (two files here)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    values = [f"person{i}@example.com" if i % 3 else f"n{i}" for i in range(300)]
    table = pa.table({"email": values, "n": list(range(300))})
    pq.write_table(table.slice(0, 120), tmp_path / "a.parquet", row_group_size=50)
    pq.write_table(table.slice(120), tmp_path / "b.parquet", row_group_size=50)
    from_files = pii.scan(ds.dataset(str(tmp_path), format="parquet"), NOW, sample_rows=100)
    in_memory = pii.scan(table, NOW, sample_rows=100)
    assert [(s.column, s.rows, s.sampled, s.detections) for s in from_files] == [
        (s.column, s.rows, s.sampled, s.detections) for s in in_memory
    ]
    email = next(s for s in from_files if s.column == "email")
    chosen = pii.positions(300, 100)
    expected = sum(1 for i in chosen if i % 3)
    assert (email.rows, email.sampled) == (300, 100)
    assert email.detections[0].matches == expected
