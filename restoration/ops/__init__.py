"""Restoration operators. Importing this package registers the built-in ops.

Each op module registers itself with ``register_op`` at import; list it below.
"""

from restoration.ops.registry import OpSpec, Param, get_op, list_ops, register_op

__all__ = ["OpSpec", "Param", "get_op", "list_ops", "register_op"]

from restoration.models import learned_ops  # noqa: E402,F401
from restoration.ops import (
    colour,  # noqa: E402,F401
    deblock,  # noqa: E402,F401
    deflicker,  # noqa: E402,F401
    denoise,  # noqa: E402,F401
    dust,  # noqa: E402,F401
    scratch,  # noqa: E402,F401
    stabilise,  # noqa: E402,F401
    upscale,  # noqa: E402,F401
)
