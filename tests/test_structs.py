"""csp11.structs.Struct: what a frozen dataclass does, declared for a fraction of
its import cost (docs/performance.md "Cold start")."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any, ClassVar

import pytest

from csp11.structs import Struct


class Point(Struct):
    x: int
    y: int = 0
    LABEL: ClassVar[str] = "a point"


class Point3(Point):
    z: int = 0


class Login(Struct, kw_only=True):
    user: str
    pin: str | None = None
    SECRET_MEMBERS: ClassVar[tuple[str, ...]] = ("pin",)


@dataclasses.dataclass(frozen=True)
class RefPoint3:
    x: int
    y: int = 0
    z: int = 0


def test_members_defaults_and_inheritance_follow_dataclasses() -> None:
    assert Point.MEMBERS == ("x", "y") and Point3.MEMBERS == ("x", "y", "z")
    assert Point(1) == Point(1, 0) == Point(x=1, y=0)
    p = Point3(1, z=3)
    ref = RefPoint3(1, z=3)
    assert (p.x, p.y, p.z) == (ref.x, ref.y, ref.z)
    assert repr(p) == repr(ref).replace("RefPoint3", "Point3")
    assert hash(p) == hash(ref)
    assert Point.LABEL == "a point" and "LABEL" not in Point.MEMBERS


@pytest.mark.parametrize(
    ("cls", "args", "kwargs", "message"),
    [
        (Point, (), {}, "missing required argument 'x'"),
        (Point, (1, 2, 3), {}, "takes 2 positional arguments"),
        (Point, (1,), {"x": 2}, "multiple values for argument 'x'"),
        (Point, (1,), {"w": 2}, "unexpected keyword argument 'w'"),
        (Login, ("me",), {}, "takes 0 positional arguments"),
    ],
)
def test_constructor_refuses_what_a_dataclass_refuses(
        cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    # (mypy refuses each of these calls already; this is the run-time check.)
    with pytest.raises(TypeError, match=message):
        cls(*args, **kwargs)


def test_a_required_member_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="'b' without a default follows"):
        type("Bad", (Struct,), {"__annotations__": {"a": "int", "b": "int"}, "a": 1})


def test_frozen_equal_by_class_and_members() -> None:
    p = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x
    assert p != Point3(1, 2, 0) and p != (1, 2) and p != Point(1, 3)
    assert {p: "found"}[Point(1, 2)] == "found"


def test_secret_members_never_reach_the_repr() -> None:
    login = Login(user="me", pin="123456")
    assert repr(login) == "Login(user='me')"
    assert "123456" not in repr(login) and "123456" not in repr([login])
    assert login.pin == "123456"


def test_replace_copy_and_pickle() -> None:
    p = Point3(1, 2, 3)
    assert p.replace(z=9) == Point3(1, 2, 9) and p == Point3(1, 2, 3)
    with pytest.raises(TypeError, match="no member 'w'"):
        p.replace(w=1)
    assert copy.copy(p) == p and copy.deepcopy(p) == p
    assert pickle.loads(pickle.dumps(p)) == p


def _subclasses(cls: type[Struct]) -> list[type[Struct]]:
    found: list[type[Struct]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_record_holding_a_pin_keeps_it_out_of_repr() -> None:
    import csp11.win32crypt  # noqa: F401 - every record of the first-key path
    records = [cls for cls in _subclasses(Struct) if cls.__module__.startswith("csp11.")]
    assert len(records) > 20
    exposed = {cls.__name__: pin for cls in records for pin in cls.MEMBERS
               if (pin == "pin" or pin.endswith("pin_value")) and pin not in cls.SECRET_MEMBERS}
    assert exposed == {}
    # The check sees the records that hold one.
    assert {"ChosenToken", "Pkcs11Uri"} <= {cls.__name__ for cls in records
                                            if "pin_value" in cls.MEMBERS}
