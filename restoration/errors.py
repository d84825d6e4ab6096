"""Errors the engine raises for bad input. Callers (CLI, web app) turn them into one clear message."""


class RestorationError(Exception):
    """Base class: the message is meant for a user, in one line."""


class MediaError(RestorationError):
    """A file cannot be read or written as video (missing, truncated, no frames, unsupported format)."""


class SpecError(RestorationError):
    """A pipeline spec, op name or op parameter is invalid. The message names the bad field."""


class ModelError(RestorationError):
    """A learned model cannot be loaded or run (missing weights, wrong shapes, unsupported device)."""
