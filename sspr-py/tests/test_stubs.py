"""The stubs of the two engine classes (``_sspr.pyi``) write every operation once, in
``_Operations``, as ``BlockingSspr`` has it; ``Sspr`` has each as ``_coroutine(...)`` of it, the
same parameters awaited, as the Rust side makes both classes from one declaration. This test
keeps that so: every operation is named in ``Sspr`` through ``_coroutine`` and nothing else
is, and the stubs name exactly what the classes really have."""

from __future__ import annotations

import ast
import pathlib
from typing import Dict, Set

import pytest

import sspr

STUB = pathlib.Path(sspr.__file__).with_name("_sspr.pyi")
OWN = {"asyncio", "blocking"}  # each twin's way to the other


def classes() -> Dict[str, ast.ClassDef]:
    tree = ast.parse(STUB.read_text())
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def defined(cls: ast.ClassDef) -> Set[str]:
    return {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def coroutines(cls: ast.ClassDef) -> Dict[str, str]:
    """``name = _coroutine(_Operations.other)`` in the class body, as {name: other}."""
    found = {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            (target,) = node.targets
            assert isinstance(target, ast.Name)
            call = node.value
            assert isinstance(call.func, ast.Name) and call.func.id == "_coroutine", ast.unparse(node)
            (arg,) = call.args
            assert isinstance(arg, ast.Attribute) and ast.unparse(arg.value) == "_Operations", ast.unparse(node)
            found[target.id] = arg.attr
    return found


def test_every_operation_is_a_coroutine_of_sspr_under_its_own_name() -> None:
    found = classes()
    operations = defined(found["_Operations"])
    assert operations, "no operation in _Operations"
    assert all(isinstance(n, ast.FunctionDef) for n in found["_Operations"].body if hasattr(n, "name"))
    assert coroutines(found["Sspr"]) == {name: name for name in operations}
    assert [b.id for b in found["BlockingSspr"].bases if isinstance(b, ast.Name)] == ["_Engine", "_Operations"]
    assert [b.id for b in found["Sspr"].bases if isinstance(b, ast.Name)] == ["_Engine"]


def test_the_stubs_name_what_the_classes_have() -> None:
    found = classes()
    shared = defined(found["_Engine"])
    stubbed = {
        "Sspr": defined(found["Sspr"]) | set(coroutines(found["Sspr"])) | shared,
        "BlockingSspr": defined(found["BlockingSspr"]) | defined(found["_Operations"]) | shared,
    }
    for cls in (sspr.Sspr, sspr.BlockingSspr):
        public = {n for n in dir(cls) if not n.startswith("_")}
        assert public == {n for n in stubbed[cls.__name__] if not n.startswith("_")}, cls.__name__


def test_the_policy_stub_states_the_real_defaults() -> None:
    """A default written in the stub is what ``Policy()`` really has: an editor shows the stub's,
    so a wrong one (``min_response_ms = 0`` where the engine pads to 300 ms) misleads a reader
    about the enumeration defence."""
    init = next(
        n for n in classes()["Policy"].body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
    )
    defaults = dict(zip((a.arg for a in init.args.kwonlyargs), init.args.kw_defaults))
    real = sspr.Policy()
    checked = 0
    for name, default in defaults.items():
        if default is None or ast.unparse(default) == "...":
            continue
        assert ast.literal_eval(default) == getattr(real, name), name
        checked += 1
    assert checked > 30, checked


def test_the_policy_stub_names_every_field() -> None:
    """Every field of the policy is a keyword of ``Policy(...)`` and an attribute in the stub: ten were missing
    (``password_min_score``, ``default_region``, the sign-in lockout, the contact-proof switches...), so
    ``mypy --strict`` refused ``sspr.Policy(default_region="GB")``, which runs."""
    policy = classes()["Policy"]
    init = next(n for n in policy.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    keywords = {a.arg for a in init.args.kwonlyargs}
    attributes = {n.target.id for n in policy.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    fields = set(sspr.Policy().to_dict())
    assert keywords == fields, (fields - keywords, keywords - fields)
    assert attributes == fields, (fields - attributes, attributes - fields)


def test_the_backends_stub_names_what_configured_backends_has() -> None:
    # `state_is_shared` was missing from the stub: a type-checked host could not read it.
    tree = ast.parse(pathlib.Path(sspr.__file__).with_name("backends.pyi").read_text())
    (stub,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ConfiguredBackends"]
    runtime = {n for n in dir(sspr.backends.ConfiguredBackends) if not n.startswith("_")}
    assert {n for n in defined(stub) if not n.startswith("_")} == runtime


def test_star_import_of_primitives_names_only_what_the_build_has(monkeypatch: pytest.MonkeyPatch) -> None:
    """``from sspr.primitives import *`` in the release wheel, which lacks the test hooks (cargo feature
    ``vectors``): its ``__all__`` named them too, so the import failed with AttributeError. Run on this
    build's native module without them."""
    import importlib.util
    import sys
    import types

    release = types.ModuleType("sspr._sspr")
    release.primitives = types.SimpleNamespace(  # type: ignore[attr-defined]
        **{name: getattr(sspr.primitives, name) for name in ("mask_email", "mask_phone", "normalize_email", "normalize_login", "normalize_phone")}
    )
    monkeypatch.setitem(sys.modules, "sspr._sspr", release)
    spec = importlib.util.spec_from_file_location("sspr._release_primitives", pathlib.Path(sspr.__file__).with_name("primitives.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in module.__all__:
        assert hasattr(module, name), f"__all__ names {name}, which this build does not have"
    assert "mask_email" in module.__all__ and "generate_pins" not in module.__all__
