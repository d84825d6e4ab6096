"""``python -m restoration encode IN OUT --codec h264|hevc|av1 --target ssim:0.97 [--shots FILE.json]
[--preset medium] [--json]``: a delivery encode with per-shot adaptive quality."""

from __future__ import annotations

import json

from restoration.progress import ProgressBar


def add_arguments(sub) -> None:
    p = sub.add_parser("encode", help="delivery encode, each shot at the highest CRF that keeps a quality target")
    p.add_argument("input")
    p.add_argument("output", help=".mp4 or .mkv")
    p.add_argument("--codec", required=True, help="h264, hevc or av1")
    p.add_argument("--target", required=True, help="ssim:0.97, psnr:40 or xpsnr:38 (luma, mean over each shot)")
    p.add_argument("--shots", default=None, help="JSON shots file: [{start_frame, end_frame}] (default: the analysis')")
    p.add_argument("--preset", default="medium", help="ultrafast .. veryslow (AV1 also takes SVT-AV1's 0..13)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object (last line)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def cli_encode(args) -> int:
    # Imported here: the parser (add_arguments) is built for every command and must stay light.
    from restoration.encode.adaptive import check_options, encode_adaptive, read_shots_file
    from restoration.io import probe

    check_options(args.codec, args.target, args.preset)  # bad options fail before any work
    shots = read_shots_file(args.shots, probe(args.input).frame_count) if args.shots else None
    bar = None if args.quiet else ProgressBar("encoding")
    try:
        result = encode_adaptive(args.input, args.output, codec=args.codec, target=args.target, shots=shots,
                                 preset=args.preset, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"{result.path}: {result.bytes} bytes, {result.codec}, {len(result.shots)} shots at {result.target}")
    print("| frames | crf | quality | encodes | capped at the highest crf |")
    print("|---|---|---|---|---|")
    for shot in result.shots:
        capped = "yes" if shot.capped else ""
        print(f"| {shot.start_frame}-{shot.end_frame} | {shot.crf:g} | {shot.quality:.4f} | {len(shot.trials)} | {capped} |")
    return 0
