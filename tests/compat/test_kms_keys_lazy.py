"""Tests of breakwater/local/compat/kms_keys_lazy.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from unittest import mock

from breakwater.local import compat


def test_a_kms_key_makes_its_signing_key_only_when_one_is_used(embedded):
    from moto.kms import utils as kms_utils

    kms = embedded.client("kms")
    original = kms_utils.rsa.generate_private_key
    with mock.patch.object(kms_utils.rsa, "generate_private_key", side_effect=original) as generate:
        kms.create_key(KeySpec="SYMMETRIC_DEFAULT")
        lazily = generate.call_count
        signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
        verified = kms.verify(KeyId=signing, Message=b"m", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")[
            "SignatureValid"
        ]
        with compat.disabled("kms_keys_lazy"):
            kms.create_key(KeySpec="SYMMETRIC_DEFAULT")

    assert lazily == 0
    assert verified is True
    assert generate.call_count == 2  # the signing key at its first use, and the symmetric key moto made eagerly
