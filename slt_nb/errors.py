"""One exception family for everything slt-nb reports about its inputs.

Every message names the file, row, clip or video and says what was expected and what was found.
Catch `SltNbError` to handle any of them; the subclasses say which kind of input was at fault.
Several also derive from the builtin a caller would naturally catch (`ValueError`, `KeyError`).
"""
from __future__ import annotations


class SltNbError(Exception):
    """Base class of the errors slt-nb raises about data, parameters and files."""


class ParameterError(SltNbError, ValueError):
    """A run parameter that cannot be understood (the message names it and the accepted forms)."""


class AnnotationError(SltNbError, ValueError):
    """An annotation file that cannot be read at all (as opposed to one bad row)."""


class WriteRefused(SltNbError, OSError):
    """The machine refused a write (full disk, file size limit, I/O error, read-only folder).

    Neither a retry nor the next clip can help, so a run stops on it and publishes nothing; the
    errno and the file are kept (`errno`, `strerror`, `filename`).
    """


class ClipError(SltNbError):
    """A clip that cannot be exported. The message names the file and says what was wrong."""


class VideoError(SltNbError):
    """A video that cannot be read as asked: the message names the file and what was wrong."""


class ClipNotFound(SltNbError, KeyError):
    """A clip name or index that the split does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownName(SltNbError, KeyError):
    """A registry lookup (reader, estimator) with a name nobody registered."""

    def __str__(self) -> str:
        return str(self.args[0])
