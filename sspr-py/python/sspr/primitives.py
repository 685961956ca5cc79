"""The core's pure functions: PIN generation and hashing, temporary passwords, decoys,
masks and normalisation. The test vectors in ``tests/vectors/`` replay them; tools may use
them (e.g. to show users how their address will be masked).
"""

from ._sspr import primitives as _native

# In every build: the checks and masks users' input gets.
mask_email = _native.mask_email
mask_phone = _native.mask_phone
normalize_email = _native.normalize_email
normalize_login = _native.normalize_login
normalize_phone = _native.normalize_phone

# Test hooks (the shared test vectors): only in builds with the cargo feature `vectors`
# (the test suite's), not in the release wheel.
if hasattr(_native, "generate_pins"):
    decoy_methods = _native.decoy_methods
    generate_pins = _native.generate_pins
    generate_temporary_passwords = _native.generate_temporary_passwords
    identity_tokens = _native.identity_tokens
    pin_hash = _native.pin_hash
    raise_error = _native.raise_error
    temp_password_entropy_bits = _native.temp_password_entropy_bits

# Only the names this build has: in the release wheel `from sspr.primitives import *` named the test
# hooks too and failed with AttributeError.
__all__ = ["mask_email", "mask_phone", "normalize_email", "normalize_login", "normalize_phone"]
if hasattr(_native, "generate_pins"):
    __all__ += [
        "decoy_methods",
        "generate_pins",
        "generate_temporary_passwords",
        "identity_tokens",
        "pin_hash",
        "raise_error",
        "temp_password_entropy_bits",
    ]
