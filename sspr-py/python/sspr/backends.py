"""The real backends of sspr (``sspr-backends``), as far as this build includes them.

``available()`` lists the classes present; each is configured with keyword arguments and
passed to ``Sspr``/``BlockingSspr`` like the in-memory backends.
"""

from __future__ import annotations

from typing import List

from ._sspr import backends as _native

__all__: List[str] = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})


def available() -> List[str]:
    """The names of the built-in backend classes in this build."""
    return list(__all__)
