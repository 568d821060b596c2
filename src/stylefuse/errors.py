"""Errors a user can cause: the CLI prints their message on one line and exits with status 2."""


class StylefuseError(Exception):
    """Base class for every error caused by the user's input, files or settings.

    The message must say what went wrong and how to fix it, on one line.
    """

    exit_code = 2


class ImageReadError(StylefuseError):
    """An image file is missing, unreadable, corrupt or too large."""


class ImageWriteError(StylefuseError):
    """An output image cannot be written (bad extension, refusing to overwrite the input, ...)."""


class WeightsError(StylefuseError):
    """Pretrained weights are missing, changed or cannot be cached."""


class OptionError(StylefuseError):
    """An option has a value the method cannot use."""


class ModelFolderError(StylefuseError):
    """A model folder is missing, incomplete, of an unknown version, tampered with or does not fit its class."""


class FusionError(StylefuseError):
    """Models, regions or photos that cannot be fused (unrelated or incompatible models, photos that do not
    overlap, masks that do not fit)."""


def one_line(message: object) -> str:
    """A message on one line (a wrapped or multi-line message loses its tail in scripts that read one)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())
