"""The core's pure functions: PIN generation and hashing, temporary passwords, decoys,
masks and normalisation. The test vectors in ``tests/vectors/`` replay them; tools may use
them (e.g. to show users how their address will be masked).
"""

from ._sspr import (
    decoy_methods,
    generate_pins,
    generate_temporary_passwords,
    identity_tokens,
    mask_email,
    mask_phone,
    normalize_email,
    normalize_login,
    normalize_phone,
    pin_hash,
    temp_password_entropy_bits,
)

__all__ = [
    "decoy_methods",
    "generate_pins",
    "generate_temporary_passwords",
    "identity_tokens",
    "mask_email",
    "mask_phone",
    "normalize_email",
    "normalize_login",
    "normalize_phone",
    "pin_hash",
    "temp_password_entropy_bits",
]
