"""sspr-core's backend conformance suite, run on backends written in Python: prove that a
store or directory you wrote keeps the contract the engine relies on.

Each check calls your object's methods (plain or ``async def``) from the calling thread and
returns None when every rule holds; a broken rule raises ``sspr.BackendError`` (kind
``"rejected"``) whose message names it.
"""

from ._sspr import testing as _native

check_state_store = _native.check_state_store
check_contact_store = _native.check_contact_store
check_directory = _native.check_directory

__all__ = ["check_contact_store", "check_directory", "check_state_store"]
