"""`python -m restoration degrade IN OUT --seed N --strength S [--masks MASKS.mkv]`"""

from __future__ import annotations

import torch

from restoration.degrade.compression import H264_SEGMENT
from restoration.degrade.model import degrade
from restoration.degrade.parameters import sample_params
from restoration.errors import MediaError


def cli_degrade(args) -> int:
    """`python -m restoration degrade IN OUT --seed N --strength S [--masks MASKS.mkv]`.

    Reads IN in chunks, writes OUT with the input's size, frame count, fps and bit depth. The
    masks file holds (dust, scratch, all) as the (R, G, B) channels (use .mkv: lossless)."""
    from pathlib import Path

    from restoration import io

    info = io.probe(args.input)
    source = Path(args.input).resolve()
    outputs = [Path(args.output)] + ([Path(args.masks)] if args.masks else [])
    for output in outputs:
        if output.resolve() == source:
            raise MediaError(f"{output}: output would overwrite the input")
    if args.masks and Path(args.masks).resolve() == Path(args.output).resolve():
        raise MediaError(f"{args.masks}: the masks file must differ from the output")
    params = sample_params(args.seed, args.strength)
    chunk_size = 2 * H264_SEGMENT  # chunks start on segment boundaries, so chunking changes nothing
    writer = io.open_writer(args.output, fps=info.fps, bit_depth=info.bit_depth, source=args.input)
    mask_writer = io.VideoWriter(args.masks, fps=info.fps) if args.masks else None
    try:
        for first, chunk in io.iter_chunks(args.input, chunk_size):
            damage = degrade(chunk, seed=args.seed, params=params, first_frame=first)
            writer.write(damage.damaged)
            if mask_writer is not None:
                writer_masks = torch.cat([damage.masks["dust"], damage.masks["scratch"], damage.masks["all"]], dim=1)
                mask_writer.write(writer_masks)
        if mask_writer is not None:
            mask_writer.close()
        writer.close()
    except BaseException:
        writer.abort()
        if mask_writer is not None:
            mask_writer.abort()
            if not writer.path.exists():  # a masks file without its clip would mislead
                mask_writer.path.unlink(missing_ok=True)
        raise
    print(f"wrote {args.output}: {info.frame_count} frames, {info.width}x{info.height}, strength {args.strength}, seed {args.seed}")
    return 0
