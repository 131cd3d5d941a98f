"""One exception family for everything slt-nb reports about its inputs.

Every message names the file, row, clip or video and says what was expected and what was found.
Catch `SltNbError` to handle any of them; the subclasses say which kind of input was at fault and
so what the user can do about it (each docstring says). Several also derive from the builtin a
caller would naturally catch (`ValueError`, `KeyError`, `FileNotFoundError`, `ImportError`), so
code written against the builtins keeps working. The runner prints any of them as one line.

Every `raise` in the package raises one of these (the contract test checks it); the only other
raises are `SystemExit` in the command-line entry points and bare re-raises.
"""
from __future__ import annotations


class SltNbError(Exception):
    """Base class of the errors slt-nb raises about data, parameters and files."""


class ParameterError(SltNbError, ValueError):
    """A run parameter that cannot be understood.

    What to do: change the value the message names; it lists the accepted forms.
    """


class ConfigError(ParameterError):
    """A Signformer config (or the exports it names) that Signformer would misread or refuse.

    What to do: fix the config key the message names, or re-export as it says.
    `file` is the file that was wrong when it is not the config itself (a manifest).
    """

    def __init__(self, message: str, file=None):
        super().__init__(message)
        self.file = file


class ConfigTypeError(ConfigError, TypeError):
    """A config value of the wrong kind where Signformer needs another (a number for a list).

    What to do: write the value in the form the message shows.
    """


class IncompatibleExports(ConfigError):
    """Exports meant to be trained together that disagree on what their columns mean.

    What to do: re-export them with the same layout options, or pass `allow_mixed_layouts`
    (`--allow-mixed-layouts`) when the mix is meant.
    """


class AnnotationError(SltNbError, ValueError):
    """An annotation file that cannot be read at all (as opposed to one bad row).

    What to do: check the file the message names (encoding, separator, header).
    """


class DataFileError(SltNbError, ValueError):
    """A data file whose contents are not what its format promises (a part, an .npz, an index).

    What to do: re-create the file the message names, or point the run at a good copy.
    """


class UnsafeFile(DataFileError):
    """A pickle (a `.pami0` part) that holds something other than samples: refused unread.

    What to do: nothing in it was run; only open it with plain `pickle` if you trust its maker.
    """


class MissingInput(SltNbError, FileNotFoundError):
    """A file or folder the run needs that is not there.

    What to do: check the path the message names (and `data_root`).
    """


class MissingDependency(SltNbError, ImportError):
    """An optional package a step needs that is not installed.

    What to do: install the package the message names (`make env` installs every pinned one).
    """


class ContractError(SltNbError, TypeError):
    """A reader or estimator class that does not keep the contract of its base class.

    What to do (for whoever writes the class): define the members the message lists.
    """


class WriteRefused(SltNbError, OSError):
    """The machine refused a write (full disk, file size limit, I/O error, read-only folder).

    Neither a retry nor the next clip can help, so a run stops on it and publishes nothing; the
    errno and the file are kept (`errno`, `strerror`, `filename`).
    What to do: free space or fix permissions on the path named, then rerun (finished work is kept).
    """


class OutputWriteError(WriteRefused):
    """A refused write of a run's outputs: the message names the path and the space needed.

    What to do: as for WriteRefused; the previous export stays whole.
    """


class OutputLocked(SltNbError, RuntimeError):
    """Another run holds the output folder.

    What to do: wait for the run the message names, or delete its stale lock file as it says.
    """


class RunFailed(SltNbError, RuntimeError):
    """A run that stopped part way (tasks lost, a worker gone) after saying what was kept.

    What to do: rerun with `resume: true`; finished parts are kept.
    """


class ClipError(SltNbError):
    """A clip that cannot be exported. The message names the file and says what was wrong.

    What to do: usually nothing: the clip is listed as skipped and the export goes on.
    """


class VideoError(SltNbError):
    """A video that cannot be read as asked: the message names the file and what was wrong.

    What to do: usually nothing: the video is listed as skipped and the extraction goes on.
    """


class ClipNotFound(SltNbError, KeyError):
    """A clip name or index that the split does not have.

    What to do: pick one of the clips the split lists.
    """

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownName(SltNbError, KeyError):
    """A registry lookup (reader, estimator) with a name nobody registered.

    What to do: use one of the names the message lists.
    """

    def __str__(self) -> str:
        return str(self.args[0])
