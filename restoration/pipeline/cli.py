"""`python -m restoration restore IN OUT [--preset NAME | --pipeline spec.json] ...`"""

from __future__ import annotations

import sys
from pathlib import Path

from restoration.errors import MediaError
from restoration.pipeline.runner import resolve_device, run_pipeline
from restoration.pipeline.spec import DEFAULT_PRESET, load_spec, preset_spec
from restoration.pipeline.tiling import DEFAULT_MAX_MEMORY, parse_memory_size
from restoration.progress import ProgressBar


def cli_restore(args) -> int:
    """`python -m restoration restore IN OUT [--preset NAME | --pipeline spec.json] ...`"""
    from restoration.io import open_writer, probe

    source, output = Path(args.input), Path(args.output)
    spec = load_spec(args.pipeline) if args.pipeline else preset_spec(args.preset or DEFAULT_PRESET)
    device = resolve_device(args.device)
    max_memory = DEFAULT_MAX_MEMORY if args.max_memory is None else parse_memory_size(args.max_memory)
    check_not_the_input(output, source)
    info = probe(args.input)
    # Checks name, codec, folder (and for a sequence, frames already there); writes nothing.
    open_writer(args.output, fps=spec.retime_fps or info.fps, codec=args.codec, bit_depth=info.bit_depth,
                source=args.input)
    first_phase = "analysing" if spec.analysis_driven else "restoring"
    bar = None if args.quiet else ProgressBar(f"{first_phase} {source.name}")
    try:
        shots = None
        if spec.analysis_driven:
            # Analysed here rather than inside run_pipeline, so the bar shows this phase too.
            from restoration.analysis import analyse

            shots = analyse(args.input, fps=info.fps, progress=bar).get("shots") or []
            if bar is not None:
                bar.phase(f"restoring {source.name}")
        result = run_pipeline(
            args.input, spec, output=output, device=device, progress=bar, codec=args.codec, shots=shots,
            max_memory=max_memory,
        )
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(
            f"wrote {output}: {result.frame_count} frames {result.width}x{result.height}"
            f" at {result.fps:g} fps from {info.frame_count} frames in {result.seconds:.1f} s",
            file=sys.stderr,
        )
    return 0


def check_not_the_input(output: Path, source: Path) -> None:
    try:
        same = output.exists() and source.exists() and output.samefile(source)
    except OSError:
        same = False
    if same:
        raise MediaError(f"{output}: the output would overwrite the input")
