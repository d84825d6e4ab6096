"""`python -m restoration grade fit|apply`: learn a grade from graded stills, apply a grade to a clip.

    grade fit SCAN --ref FRAME=STILL.png [--ref ...] --out GRADE.json [--cube OUT.cube] [--cdl OUT.cdl]
    grade apply SCAN OUT --grade GRADE.json|.cube|.cdl|.cc|.ccc [--id ID]

Frames are counted from 0. ``fit`` prints its report (CIEDE2000 errors, held out and on the
references) as one JSON line. ``apply`` writes every frame, same size and count, at the source's
bit depth (lossless FFV1 for .mkv). Bad input ends as one line and exit code 2, with no output
file left behind: every file is written under a temporary name and renamed when whole.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from restoration.colour.cdl_files import cdl_file_write
from restoration.colour.fit import grade_fit
from restoration.colour.grade import grade_apply, grade_bake, grade_load, grade_save
from restoration.colour.lut import cube_write
from restoration.colour.stills import still_read
from restoration.errors import MediaError, SpecError

CHUNK = 16


def _reference_arg(text: str) -> tuple[int, Path]:
    frame, sep, still = text.partition("=")
    if not sep or not still:
        raise SpecError(f"--ref {text!r}: expected FRAME=STILL.png")
    try:
        number = int(frame)
    except ValueError:
        raise SpecError(f"--ref {text!r}: the frame number must be an integer") from None
    return number, Path(still)


def cli_grade(args) -> int:
    return _fit(args) if args.grade_command == "fit" else _apply(args)


def _fit(args) -> int:
    from restoration.io import probe, read_frames

    info = probe(args.input)
    references = [_reference_arg(text) for text in args.ref]
    for frame, _ in references:
        if not 0 <= frame < (info.frame_count or 0):
            raise SpecError(f"--ref: frame {frame} is outside the clip (frames 0..{(info.frame_count or 1) - 1})")
    outputs = [Path(p) for p in (args.out, args.cube, args.cdl) if p]
    if args.cube and Path(args.cube).suffix.lower() != ".cube":
        raise SpecError(f"--cube {args.cube}: the file name must end in .cube")
    if args.cdl and Path(args.cdl).suffix.lower() not in (".cdl", ".cc", ".ccc"):
        raise SpecError(f"--cdl {args.cdl}: the file name must end in .cdl, .cc or .ccc")
    for path in outputs:
        if not path.parent.is_dir():
            raise MediaError(f"{path}: no such folder {path.parent}")
    pairs = []
    for frame, still_path in references:
        picture = read_frames(args.input, frame, 1)[0]
        still = still_read(still_path)
        if picture.shape[0] == 1 and still.shape[0] == 3:
            picture = picture.expand(3, -1, -1)  # a tinted or toned grade of a grey scan
        elif picture.shape[0] == 3 and still.shape[0] == 1:
            raise MediaError(f"{still_path}: a grey still cannot grade a colour frame")
        pairs.append((picture, still))
    grade, report = grade_fit(pairs, labels=[f"frame {frame} ({still.name})" for frame, still in references])
    written: list[Path] = []
    try:
        grade_save(grade, args.out)
        written.append(Path(args.out))
        if args.cube:
            cube_write(grade_bake(grade), args.cube, title="grade")
            written.append(Path(args.cube))
        if args.cdl:
            # A CDL file carries the CDL only: the LUT, if the fit kept one, is in the JSON and the .cube.
            cdl_file_write(args.cdl, grade.cdl)
            written.append(Path(args.cdl))
    except BaseException:
        for path in written:  # all of the outputs or none
            path.unlink(missing_ok=True)
        raise
    print(json.dumps(report))
    return 0


def _apply(args) -> int:
    from restoration.io import iter_chunks, open_writer, probe
    from restoration.pipeline.cli import check_not_the_input

    grade = grade_load(args.grade, args.id)
    source, output = Path(args.input), Path(args.output)
    check_not_the_input(output, source)
    info = probe(args.input)
    bit_depth = 16 if (info.bit_depth or 8) > 8 else 8
    # A pattern as OUTPUT writes a sequence (the source's numbers, depth and DPX headers).
    with open_writer(args.output, fps=info.fps, bit_depth=bit_depth, source=args.input) as writer:
        for _, frames in iter_chunks(args.input, CHUNK):
            writer.write(grade_apply(frames, grade).clamp(0, 1))
    if not args.quiet:
        print(f"wrote {output}: {info.frame_count} frames graded with {Path(args.grade).name}", file=sys.stderr)
    return 0


def add_arguments(sub) -> None:
    """The `grade` subcommand's parser (restoration/cli.py)."""
    p = sub.add_parser("grade", help="learn a grade from graded stills, or apply one to a clip")
    grade_sub = p.add_subparsers(dest="grade_command", required=True)
    fit = grade_sub.add_parser("fit", help="fit a CDL (+ a residual LUT) to graded reference stills")
    fit.add_argument("input", help="the scan (a video file or an image sequence)")
    fit.add_argument("--ref", action="append", required=True, metavar="FRAME=STILL",
                     help="a graded still of frame FRAME (0-based); give two or more for a held-out error")
    fit.add_argument("--out", required=True, help="the grade as JSON")
    fit.add_argument("--cube", help="also the whole grade as a 33-point .cube")
    fit.add_argument("--cdl", help="also the CDL as ASC .cdl/.cc/.ccc")
    apply = grade_sub.add_parser("apply", help="apply a grade to every frame of a clip")
    apply.add_argument("input")
    apply.add_argument("output")
    apply.add_argument("--grade", required=True, help="GRADE.json, .cube, .cdl, .cc or .ccc")
    apply.add_argument("--id", default=None, help="the correction's id in a .cdl/.cc/.ccc with several")
    apply.add_argument("--quiet", action="store_true")


