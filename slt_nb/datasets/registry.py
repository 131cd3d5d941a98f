"""`READERS`: corpus name -> reader class, filled by `@register_reader` in each corpus module."""
from __future__ import annotations

from slt_nb.errors import UnknownName, ParameterError

READERS: dict[str, type] = {}

# What every registered reader class must define (checked at registration, so a new corpus
# fails on import rather than halfway through a report).
REQUIRED = ("layout", "fps", "frame_size", "demo_params", "from_params", "plan", "read", "describe")


def register_reader(name: str):
    """Class decorator: register a corpus reader under `name` (lower case)."""
    key = name.lower()

    def add(cls: type) -> type:
        missing = [attr for attr in REQUIRED if not hasattr(cls, attr)]
        if missing:
            raise TypeError(f"reader {cls.__name__} for {name!r} lacks {missing}")
        if key in READERS and READERS[key] is not cls:
            raise ValueError(f"a reader named {key!r} is already registered ({READERS[key].__name__})")
        cls.reader_name = key
        READERS[key] = cls
        return cls

    return add


def reader_class(name: str) -> type:
    """The reader registered as `name` (any case), or UnknownName listing the known ones."""
    try:
        return READERS[str(name).lower()]
    except KeyError:
        raise UnknownName(f"no reader named {name!r}; known readers: {sorted(READERS)}") from None


def reader_from_params(params: dict):
    """The reader named by params['reader'] (default: the dataset's name), configured from params."""
    coordinates = params.get("coordinates", "normalised")
    if coordinates not in ("normalised", "pixels"):
        raise ParameterError(f"coordinates must be 'normalised' or 'pixels', got {coordinates!r}")
    return reader_class(params.get("reader", params["dataset"])).from_params(params)


def common_params(params: dict) -> dict:
    """The constructor arguments every reader takes, from a params dict."""
    from slt_nb.params import resolve

    return dict(
        data_root=str(resolve(params["data_root"])),
        dataset=params.get("name", params["dataset"]),
        variant=params.get("variant", "") or "",
        augmented=params.get("augmented"),
        augmented_splits=tuple(params.get("augmented_splits", ["train"])),
    )
