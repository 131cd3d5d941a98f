"""`Registry`: name -> class, for the things that multiply (corpus readers, pose estimators).

Each registry is built over a base class whose abstract members are the contract (the `Reader`
of `slt_nb.datasets.base`, the `PoseEstimator` of `slt_nb.extract.estimators`). Registering a
class checks it against that base, so a new corpus or estimator that forgets a member fails
when its module is imported, naming the member, rather than halfway through a report. A lookup
of a name nobody registered raises `UnknownName` listing the known names, so no list of known
readers or estimators can go stale.

A registry reads like a dict of its classes (`sorted(READERS)`, `name in READERS`,
`READERS.get(name)`). Its base class and the `modules` whose import registers its entries are
named, not imported, and loaded on first use: so `READERS` and `ESTIMATORS` live here, outside
every stage, and any stage can ask them (`estimator_parts` for an extraction folder's arrays,
`detect_reader` for a data folder) without importing another stage, while `import slt_nb.registry`
stays cheap and mediapipe is loaded only by whoever builds an estimator.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping

from slt_nb.errors import ContractError, UnknownName
from slt_nb.formats.extraction import DEFAULT_ESTIMATOR


class AbstractAttribute:
    """A class attribute that every subclass must set (a value, a dataclass field default).

    ABCMeta counts it among the class's abstract members until a subclass overrides the name, so
    a registry refuses the class and Python refuses to build one, both naming it.
    """

    __isabstractmethod__ = True

    def __init__(self, doc: str):
        self.__doc__ = doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return self


def missing_members(cls: type) -> list[str]:
    """The abstract members of `cls`'s bases that `cls` leaves undefined, sorted."""
    return sorted(getattr(cls, "__abstractmethods__", ()))


class Registry(Mapping):
    """Classes of one kind (`what`: "reader", "pose estimator") registered by name."""

    def __init__(self, what: str, plural: str, base: str, modules: tuple[str, ...] = (),
                 case_insensitive: bool = False):
        self.what, self.plural = what, plural
        self.base_name = base  # "module:Class", imported when a class is first registered
        self.modules = modules
        self.case_insensitive = case_insensitive
        self._classes: dict[str, type] = {}
        self._loaded = not modules

    def _key(self, name) -> str:
        return str(name).lower() if self.case_insensitive else str(name)

    @property
    def base(self) -> type:
        """The base class whose abstract members are the contract of this registry's classes."""
        module, _, name = self.base_name.partition(":")
        return getattr(importlib.import_module(module), name)

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True  # first: a registered module looking itself up does not re-enter
            for module in self.modules:
                importlib.import_module(module)

    def add(self, cls: type, name: str) -> type:
        """Register `cls` under `name`; ContractError if it does not keep the base's contract."""
        base = self.base
        if not (inspect.isclass(cls) and issubclass(cls, base)):
            raise ContractError(f"{self.what} {getattr(cls, '__name__', cls)!r} for {name!r} is no subclass "
                                f"of {base.__name__}; derive it from {base.__module__}.{base.__name__}")
        missing = missing_members(cls)
        if missing:
            raise ContractError(f"{self.what} {cls.__name__} for {name!r} lacks {missing}; "
                                f"{base.__name__} says what each must do")
        key = self._key(name)
        known = self._classes.get(key)
        if known is not None and known is not cls:
            raise ContractError(f"a {self.what} named {key!r} is already registered ({known.__name__})")
        self._classes[key] = cls
        return cls

    def register(self, name: str | None = None, attribute: str | None = None) -> Callable[[type], type]:
        """Class decorator registering under `name`, or under the class's own `name` attribute.

        With `attribute`, the registered key is also set on the class under that attribute
        (readers learn their `reader_name` this way).
        """
        def add(cls: type) -> type:
            own = getattr(cls, "name", None)
            key = self._key(name if name is not None else own if isinstance(own, str) else cls.__name__)
            self.add(cls, key)
            if attribute:
                setattr(cls, attribute, key)
            return cls

        return add

    def lookup(self, name) -> type:
        """The class registered as `name`, or UnknownName listing the known names."""
        self._load()
        try:
            return self._classes[self._key(name)]
        except KeyError:
            raise UnknownName(f"no {self.what} named {name!r}; known {self.plural}: {sorted(self._classes)}") from None

    def __getitem__(self, name) -> type:
        return self.lookup(name)

    def __setitem__(self, name, cls: type) -> None:
        """An entry set as in a dict, unchecked: for tests that put a stand-in in place
        (`monkeypatch.setitem`); classes of the package register through `register`."""
        self._load()
        self._classes[self._key(name)] = cls

    def __delitem__(self, name) -> None:
        self._load()
        del self._classes[self._key(name)]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(self._classes)

    def __len__(self) -> int:
        self._load()
        return len(self._classes)

    def __contains__(self, name) -> bool:
        self._load()
        return self._key(name) in self._classes

    def __repr__(self) -> str:
        return f"Registry({self.plural}: {sorted(self._classes)})"


# Corpus readers (slt_nb.datasets.<corpus>, each `@register_reader("name")`), names in any case.
READERS = Registry("reader", "readers", "slt_nb.datasets.base:Reader", modules=("slt_nb.datasets",),
                   case_insensitive=True)
# Pose estimators (each `@register_estimator`, under its `name`).
ESTIMATORS = Registry("pose estimator", "estimators", "slt_nb.extract.estimators:PoseEstimator",
                      modules=("slt_nb.extract.holistic", "slt_nb.extract.landmarker"))


def readers_recognising(root) -> list[str]:
    """The names of the registered readers whose `detect` says the folder `root` is their corpus."""
    return [name for name in sorted(READERS) if READERS[name].detect(str(root))]


def detect_reader(root) -> str | None:
    """The name of the registered reader whose corpus the folder `root` is (each reader's `detect`);
    None if none claims it, ContractError if several do (their `detect`s overlap)."""
    claims = readers_recognising(root)
    if len(claims) > 1:
        raise ContractError(f"{root}: readers {claims} all recognise this folder; each reader's detect() must "
                            "recognise its own corpus only")
    return claims[0] if claims else None


def another_reader_hint(root, own: str) -> str:
    """For an error saying `root` is not the `own` reader's corpus: which registered readers it looks
    like ("" if none), so a user who named the wrong corpus learns the right one."""
    others = [name for name in readers_recognising(root) if name != own]
    return (f"\n{root} looks like a tree of the {' or '.join(repr(o) for o in others)} reader, not this one: "
            f"use that corpus's params (reader: {others[0]})") if others else ""


def estimator_parts(name: str | None) -> tuple:
    """The parts (`formats.extraction.PosePart`) an estimator writes, without building (or loading a
    model for) it; None: the default estimator."""
    return ESTIMATORS.lookup(name or DEFAULT_ESTIMATOR).parts
