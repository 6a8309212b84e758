"""``crypto.opener``: bulk decryption, as strict as ``decrypt``."""

from __future__ import annotations

import pytest

from niangjia.utilities import crypto


def test_opener_reads_what_encrypt_wrote_and_nothing_else():
    blob = crypto.encrypt("420102199001011234", purpose="members.id_number")
    open_id = crypto.opener(purpose="members.id_number")
    assert open_id(blob) == crypto.decrypt(blob, purpose="members.id_number")
    assert open_id(memoryview(blob)) == "420102199001011234"
    with pytest.raises(crypto.DecryptionError):
        crypto.opener(purpose="members.phone")(blob)
    with pytest.raises(crypto.DecryptionError):
        open_id(blob[:20])
    with pytest.raises(crypto.DecryptionError):
        open_id(bytes([250]) + blob[1:])
