"""Immutable structures declared by their annotated members: :class:`Struct`.

csp11 holds many small fixed records: key BLOB layouts (``BLOBHEADER``,
``RSAPUBKEY`` and the rest), table rows (an ALG_ID's algorithm, a provider's
personality), a token's quirks, a parsed PKCS#11 URI.  Declared as frozen
dataclasses they cost every process about 0.5 ms each at import, 20 ms for
csp11's forty: ``dataclasses`` writes the source of ``__init__``,
``__setattr__``, ``__delattr__``, ``__eq__``, ``__hash__`` and ``__repr__``
for each class and compiles it (measured on Python 3.11,
docs/performance.md "Cold start").  A :class:`Struct` subclass does the same
work with methods written once, here, over its member names; declaring one
costs about 0.02 ms.

A subclass reads like a frozen dataclass and behaves like one::

    class BlobHeader(Struct):
        bType: int
        bVersion: int
        reserved: int = 0

* members are the annotated class attributes that are not ``ClassVar``, the
  base class's first; a class attribute of the same name is the default;
* the constructor takes them positionally or by name (``kw_only=True`` in the
  class statement: by name only), and refuses missing, unknown or repeated
  ones with ``TypeError``;
* instances are immutable (``dataclasses.FrozenInstanceError``), equal when
  of the same class with equal members, hashable by their members, and
  printed as ``Name(member=value, ...)`` without the members named in
  ``SECRET_MEMBERS`` (a PIN never reaches a repr);
* :meth:`Struct.replace` is ``dataclasses.replace``.

``typing.dataclass_transform`` tells type checkers all of this, so mypy
checks constructor calls and assignments as it does for dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    # Only type checkers read the decorator; at run time (Python 3.10 has no
    # typing.dataclass_transform, and typing_extensions is no dependency and
    # 3 ms to import) it changes nothing.
    def dataclass_transform(**_: object) -> Callable[[type], type]:
        return lambda cls: cls

__all__ = ["Struct"]

_S = TypeVar("_S", bound="Struct")
_MISSING: Any = object()


def _frozen(message: str) -> Exception:
    # dataclasses (and inspect, which it imports) cost ~5 ms of every start
    # (cold start); only a caller's mistake needs its exception.
    from dataclasses import FrozenInstanceError  # noqa: PLC0415

    return FrozenInstanceError(message)


def _is_classvar(annotation: object) -> bool:
    # Annotations are strings here (``from __future__ import annotations``
    # everywhere in csp11); dataclasses recognises ClassVar the same way.
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(frozen_default=True)
class Struct:
    """Base of immutable structures (see the module notes)."""

    __slots__ = ()

    MEMBERS: ClassVar[tuple[str, ...]] = ()
    SECRET_MEMBERS: ClassVar[tuple[str, ...]] = ()  # left out of repr()
    _DEFAULTS: ClassVar[dict[str, Any]] = {}
    _KW_ONLY: ClassVar[bool] = False
    _GET: ClassVar[Callable[..., tuple[Any, ...]]] = staticmethod(lambda _: ())

    def __init_subclass__(cls, *, kw_only: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        members = list(cls.MEMBERS)
        defaults = dict(cls._DEFAULTS)
        # The class's own annotations (what inspect.get_annotations reads;
        # inspect itself costs ~5 ms of every start).
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if _is_classvar(annotation):
                continue
            if name not in members:
                members.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
        required_after_default = [
            name for index, name in enumerate(members)
            if name not in defaults and any(m in defaults for m in members[:index])
        ]
        if required_after_default and not kw_only:
            raise TypeError(f"{cls.__name__}: member {required_after_default[0]!r} "
                            "without a default follows one with a default")
        cls.MEMBERS = tuple(members)
        cls._DEFAULTS = defaults
        cls._KW_ONLY = kw_only
        # The members' values as one tuple, read in C (eq and hash use it).
        get = attrgetter(*members) if members else (lambda _: ())
        cls._GET = staticmethod(get if len(members) != 1 else lambda s: (get(s),))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        members = cls.MEMBERS
        if len(args) > (0 if cls._KW_ONLY else len(members)):
            raise TypeError(f"{cls.__name__}() takes {0 if cls._KW_ONLY else len(members)} "
                            f"positional arguments but {len(args)} were given")
        for name, value in zip(members, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            object.__setattr__(self, name, value)
        for name in members[len(args):]:
            value = kwargs.pop(name, _MISSING)
            if value is _MISSING:
                value = cls._DEFAULTS.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}() missing required argument {name!r}")
            object.__setattr__(self, name, value)
        if kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument "
                            f"{next(iter(kwargs))!r}")

    def _values(self) -> tuple[Any, ...]:
        return self._GET(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Struct)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.MEMBERS
                          if name not in self.SECRET_MEMBERS)
        return f"{type(self).__qualname__}({shown})"

    def replace(self: _S, **changes: Any) -> _S:
        """A copy with ``changes`` (member name → new value), as ``dataclasses.replace``."""
        values = {name: getattr(self, name) for name in self.MEMBERS}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no member {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)
