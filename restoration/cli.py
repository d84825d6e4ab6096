"""`python -m restoration restore|analyse|degrade|probe|bench|train|grade|encode`.

Each subcommand's handler lives beside the code it drives and is imported lazily, so
`--help` is fast. Bad input from any handler ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from restoration.errors import RestorationError

# subcommand -> "module:function"; each function takes the parsed argparse.Namespace.
HANDLERS = {
    "probe": "restoration.io:cli_probe",
    "degrade": "restoration.degrade.cli:cli_degrade",
    "analyse": "restoration.analysis:cli_analyse",
    "restore": "restoration.pipeline.cli:cli_restore",
    "bench": "restoration.bench:cli_bench",
    "train": "restoration.models.train:cli_train",
    "grade": "restoration.colour.cli:cli_grade",
    "encode": "restoration.encode.cli:cli_encode",
}


SOURCE_HELP = "a video file, or an image sequence: a pattern (scan/f_%%06d.dpx, @N to start at N) or its folder"
OUTPUT_HELP = "a video file (.mkv, .mov, .mp4), or a pattern (out/f_%%06d.dpx, .tif, .png, .exr) for a sequence"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m restoration", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("probe", help="print a video file's or an image sequence's properties as JSON")
    p.add_argument("input", help=SOURCE_HELP)

    p = sub.add_parser("degrade", help="apply the synthetic film-damage model to a clip")
    p.add_argument("input", help=SOURCE_HELP)
    p.add_argument("output", help=OUTPUT_HELP)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--strength", choices=["light", "medium", "heavy"], default="medium")
    p.add_argument("--masks", help="also write the defect masks to this video file")

    p = sub.add_parser("analyse", help="detect shots, measure defects, recommend a pipeline")
    p.add_argument("input", help=SOURCE_HELP)
    p.add_argument("--json", action="store_true", help="print JSON (the default prints a table)")

    p = sub.add_parser("restore", help="restore a clip with a preset or a JSON pipeline")
    p.add_argument("input", help=SOURCE_HELP)
    p.add_argument("output", help=OUTPUT_HELP)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--preset", default=None, help="named pipeline, e.g. film (default)")
    group.add_argument("--pipeline", default=None, help="path to a JSON pipeline spec")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--codec", default=None, help="output codec: ffv1, prores or h264 (default: from extension)")
    p.add_argument("--max-memory", default=None,
                   help="memory budget that sets the frames held and the spatial tiles, e.g. 4GiB (default 12GiB)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("bench", help="print the engine benchmarks")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--only", default=None, help="comma-separated parts to run")

    p = sub.add_parser("train", help="train a learned model from scratch")
    p.add_argument("--task", choices=["restore", "sr", "interp", "shots", "shot-embedding"], required=True)
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--minutes", type=float, help="train for about this long (steps fixed after timing)")
    length.add_argument("--steps", type=int, help="train for exactly this many steps")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="where to write the weights")
    p.add_argument("--init", default=None, help="weights file to fine-tune from (default: a fresh net)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the task's; lower to fine-tune)")
    p.add_argument("--fade", action="store_true", help="restore: keep degrade's colour fading in the training data")
    p.add_argument("--fallback-windows", action="store_true",
                   help="restore: align training windows as learned_restore does (the centre frame where a"
                        " neighbour cannot be trusted)")
    p.add_argument("--fallback-maps", action="store_true",
                   help="restore, with --fallback-windows: the net also reads where each neighbour fell back"
                        " (with --init: the file's net, those inputs' weights starting at zero)")
    p.add_argument("--moving-cutouts", type=float, default=0.0,
                   help="restore: the share (0-1) of training windows with squares of another photograph moving"
                        " across them (default 0)")
    p.add_argument("--widths", default=None, help="restore, interp: the U-Net's three widths, e.g. 48,64,96")
    p.add_argument("--bf16", action="store_true", help="forward passes in bfloat16 (about 1.8x faster on a CPU with native bfloat16)")
    p.add_argument("--factor", type=int, choices=[2, 4], default=None, help="sr: the scale, 2 (default) or 4")
    p.add_argument("--reels", type=int, default=40, help="shots, shot-embedding: how many synthetic training reels (default 40)")
    p.add_argument("--texture-reels", type=int, default=0,
                   help="shots: how many more reels of smooth random textures (default 0)")
    p.add_argument("--low-contrast-reels", type=int, default=0,
                   help="shots, shot-embedding: how many more hard reels of photographs at a fraction of their contrast, damaged"
                        " (default 0)")
    from restoration.colour.cli import add_arguments as add_grade_arguments

    add_grade_arguments(sub)
    from restoration.encode.cli import add_arguments as add_encode_arguments

    add_encode_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = HANDLERS[args.command]
    if args.command == "train" and args.task == "shots":
        # the shot detector learns from the analysis' cues: its training lives with the analysis
        target = "restoration.analysis.shot_training:cli_train_shots"
    if args.command == "train" and args.task == "shot-embedding":
        target = "restoration.analysis.shot_training:cli_train_shot_embedding"
    module_name, function_name = target.split(":")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        return int(handler(args) or 0)
    except RestorationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
