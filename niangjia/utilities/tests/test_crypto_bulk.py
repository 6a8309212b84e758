"""``crypto.hasher`` and ``crypto.sealer``: what ``keyed_hash`` and ``encrypt`` give, faster."""

from __future__ import annotations

from niangjia.utilities import crypto


def test_hasher_gives_the_keyed_hash_of_each_value():
    values = ["", "420102199001011234", "13812345678", "张三", "x" * 1000]
    for purpose in ("members.id_number", "members.phone"):
        keyed = crypto.hasher(purpose=purpose)
        for value in values * 2:  # the bound state is copied, never used up
            assert keyed(value) == crypto.keyed_hash(value, purpose=purpose)
    assert crypto.hasher(purpose="members.phone")("1") != crypto.hasher(
        purpose="members.id_number"
    )("1")


def test_sealer_writes_what_decrypt_reads_with_a_fresh_nonce_each_time():
    seal = crypto.sealer(purpose="members.id_number")
    blobs = [seal("420102199001011234") for _ in range(3)]
    assert len({blob[1:13] for blob in blobs}) == 3
    for blob in blobs:
        assert len(blob) == 1 + 12 + len("420102199001011234") + 16
        assert crypto.decrypt(blob, purpose="members.id_number") == "420102199001011234"
