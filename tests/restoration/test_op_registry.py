"""The one module that registers every op: names resolve whatever was imported first."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import restoration.ops
from restoration.errors import SpecError
from restoration.op_registry import BUILTIN_OPS, get_op, list_ops
from restoration.ops.opspec import OpSpec


def _run_fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_ffmpeg_and_learned_ops_resolve_without_the_pipeline():
    # The ffmpeg op used to be registered only as a side effect of importing restoration.pipeline.
    out = _run_fresh(
        "import sys\n"
        "from restoration.op_registry import get_op\n"
        "print(get_op('ffmpeg').name, get_op('learned_restore').name, 'restoration.pipeline' in sys.modules)"
    )
    assert out == "ffmpeg learned_restore False"


def test_importing_an_op_module_registers_nothing_and_ops_never_import_models():
    out = _run_fresh(
        "import sys\n"
        "import restoration.ops.denoise, restoration.ops.interpolate\n"
        "print('restoration.op_registry' in sys.modules, any(m.startswith('restoration.models') for m in sys.modules))"
    )
    assert out == "False False"


def test_every_declared_op_is_registered_once():
    declared = {}
    for info in pkgutil.iter_modules(restoration.ops.__path__):
        module = importlib.import_module(f"restoration.ops.{info.name}")
        declared.update({value.name: value for value in vars(module).values() if isinstance(value, OpSpec)})
    declared.update({spec.name: spec for spec in (get_op("ffmpeg"), get_op("learned_restore"), get_op("learned_upscale"))})
    assert len({spec.name for spec in BUILTIN_OPS}) == len(BUILTIN_OPS)
    assert {spec.name: spec for spec in BUILTIN_OPS} == declared
    assert {spec.name for spec in BUILTIN_OPS} <= {spec.name for spec in list_ops()}
    assert all(get_op(spec.name) is spec for spec in BUILTIN_OPS)


def test_unknown_op_names_the_known_ones():
    with pytest.raises(SpecError, match=r"unknown op 'nope' \(known: .*deflicker.*ffmpeg"):
        get_op("nope")
