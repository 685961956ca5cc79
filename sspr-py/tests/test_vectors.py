"""Replays every file of tests/vectors/ through the Python API: the same outputs as Rust."""

from __future__ import annotations

import json
import math
import pathlib
from typing import Any, Dict, List

import pytest

import sspr
from sspr import primitives

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "vectors"
REPLAYED = ["pins.json", "temp_passwords.json", "decoys.json", "masks.json", "policy.json", "logins.json"]


def cases(file: str) -> List[Dict[str, Any]]:
    doc = json.loads((VECTORS / file).read_text())
    assert doc["description"].strip()
    assert doc["cases"], file
    return list(doc["cases"])


def ids(file: str) -> List[str]:
    return [c["name"] for c in cases(file)]


def test_every_vector_file_is_replayed() -> None:
    on_disk = sorted(p.name for p in VECTORS.glob("*.json"))
    assert on_disk == sorted(REPLAYED), "a vector file this suite does not replay"


@pytest.mark.parametrize("case", cases("pins.json"), ids=ids("pins.json"))
def test_pins(case: Dict[str, Any]) -> None:
    if case["kind"] == "generate":
        assert primitives.generate_pins(case["seed"], case["digits"], case["count"]) == case["pins"]
    else:
        assert case["kind"] == "hash"
        assert primitives.pin_hash(case["key"], case["flow_id"], case["pin"]) == case["hash"]


@pytest.mark.parametrize("case", cases("temp_passwords.json"), ids=ids("temp_passwords.json"))
def test_temp_passwords(case: Dict[str, Any]) -> None:
    if case["kind"] == "generate":
        tokens = primitives.identity_tokens(case["login"], case["display_name"])
        assert tokens == case["tokens"]
        got = primitives.generate_temporary_passwords(case["seed"], case["length"], tokens, case["count"])
        assert got == case["passwords"]
    else:
        assert case["kind"] == "entropy"
        assert math.isclose(primitives.temp_password_entropy_bits(case["length"]), case["bits"], abs_tol=1e-9)


@pytest.mark.parametrize("case", cases("decoys.json"), ids=ids("decoys.json"))
def test_decoys(case: Dict[str, Any]) -> None:
    policy = sspr.Policy.from_dict(case["policy"])
    assert primitives.normalize_login(case["login"]) == case["normalized"]
    got = [{"channel": c, "masked": m} for c, m in primitives.decoy_methods(case["key"], case["login"], policy)]
    assert got == case["methods"]


@pytest.mark.parametrize("case", cases("masks.json"), ids=ids("masks.json"))
def test_masks(case: Dict[str, Any]) -> None:
    if case["kind"] == "email":
        normalize, mask = primitives.normalize_email, primitives.mask_email
    else:
        region = case.get("region")
        def normalize(text: str) -> str:
            return primitives.normalize_phone(text, region)
        def mask(text: str) -> str:
            return primitives.mask_phone(text, region)
    if "error" in case:
        assert case["error"] == "invalid_input"
        with pytest.raises(sspr.InvalidInput) as err:
            normalize(case["input"])
        assert err.value.field == case["field"]
        with pytest.raises(sspr.InvalidInput):
            mask(case["input"])
    else:
        assert normalize(case["input"]) == case["normalized"]
        assert mask(case["input"]) == case["masked"]


@pytest.mark.parametrize("case", cases("policy.json"), ids=ids("policy.json"))
def test_policy(case: Dict[str, Any]) -> None:
    def parse() -> sspr.Policy:
        if "policy_text" in case:
            return sspr.Policy.from_json(case["policy_text"])
        return sspr.Policy.from_dict(case["policy"])

    if "error" in case:
        with pytest.raises(sspr.ConfigError) as err:
            parse()
        field = case["error"]["field"]
        assert f"`{field}`" in str(err.value), str(err.value)
        if case["error"]["kind"] == "out_of_range":
            assert case["error"]["allowed"] in str(err.value)
        # Keyword arguments go through the same check.
        if "policy" in case:
            with pytest.raises(sspr.ConfigError):
                sspr.Policy(**case["policy"])
    else:
        policy = parse()
        for field, value in case["effective"].items():
            assert getattr(policy, field) == value, field
        if "policy" in case:
            assert sspr.Policy(**case["policy"]) == policy


@pytest.mark.parametrize("case", cases("logins.json"), ids=ids("logins.json"))
def test_logins(case: Dict[str, Any]) -> None:
    if "error" in case:
        assert case["field"] == "login"
        with pytest.raises(sspr.InvalidInput) as err:
            primitives.normalize_login(case["input"])
        assert err.value.field == "login"
    else:
        assert primitives.normalize_login(case["input"]) == case["normalized"]
