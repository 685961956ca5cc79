"""The stubs of the two engine classes (``_sspr.pyi``) are written by hand, twice: ``Sspr``'s
operations as coroutines, ``BlockingSspr``'s as plain methods. A stub cannot be derived from
another, so this test keeps the twins in step: the same operations, each with the same
parameters, defaults and return type, async in one and not the other; and the same operations
as the classes really have (the Rust side writes both from one declaration)."""

from __future__ import annotations

import ast
import pathlib
from typing import Dict, Tuple

import sspr

STUB = pathlib.Path(sspr.__file__).with_name("_sspr.pyi")
OWN = {"asyncio", "blocking"}  # each twin's way to the other


def methods(name: str) -> Dict[str, Tuple[bool, str]]:
    tree = ast.parse(STUB.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    found = {}
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in OWN:
            returns = ast.unparse(node.returns) if node.returns else ""
            found[node.name] = (isinstance(node, ast.AsyncFunctionDef), ast.unparse(node.args) + " -> " + returns)
    return found


def test_the_two_engine_stubs_are_twins() -> None:
    asyncio_side, blocking_side = methods("Sspr"), methods("BlockingSspr")
    assert asyncio_side.keys() == blocking_side.keys()
    for name, (is_async, signature) in asyncio_side.items():
        blocking_async, blocking_signature = blocking_side[name]
        assert not blocking_async, f"BlockingSspr.{name} is async in the stub"
        assert signature == blocking_signature, f"{name}: {signature} != {blocking_signature}"
        if not name.startswith("__") and name not in {"policy", "completion_modes"}:
            assert is_async, f"Sspr.{name} is not a coroutine in the stub"


def test_the_stubs_name_what_the_classes_have() -> None:
    for cls in (sspr.Sspr, sspr.BlockingSspr):
        public = {n for n in dir(cls) if not n.startswith("_")} - OWN
        assert public == {n for n in methods(cls.__name__) if not n.startswith("_")}, cls.__name__
