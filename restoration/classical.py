"""Classical FFmpeg filter chains run on frame tensors through PyAV's filter graph.

They are the baselines in the benchmarks and an op in pipelines (``{"op": "ffmpeg", "params":
{"chain": "nlmeans"}}``). Frames go in as 8-bit grey or RGB (what these filters are built for;
8-bit quantisation costs nothing measurable next to film damage) and come back as float
tensors of the same shape, device and dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np
import torch

from restoration.errors import RestorationError
from restoration.ops.opspec import OpSpec, Param

# Named chains: removegrain (mode 1: clip each pixel to its neighbours' range) takes out one-pixel
# dust, deflicker evens the brightness over 5 frames, then one of FFmpeg's denoisers. The settings
# were picked on degrade's clips (best PSNR of a few tried, see docs/BENCHMARKS.md); bm3d's keep
# it (slow by nature) practical.
CHAINS: dict[str, str] = {
    "nlmeans": "removegrain=m0=1,deflicker=size=5,nlmeans=s=4:p=5:r=9",
    "atadenoise": "removegrain=m0=1,deflicker=size=5,atadenoise=s=9",
    "bm3d": "removegrain=m0=1,deflicker=size=5,bm3d=sigma=10:block=8:bstep=4:group=1:range=8",
}
# Frames of context any named chain needs on each side (deflicker 5 and atadenoise 9 frames,
# whatever their alignment): the pipeline overlaps windows by this much.
CHAIN_TEMPORAL_RADIUS = 8


def parse_chain(chain: str | Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """``"a=x:y,b"`` (FFmpeg's syntax, no nested commas) or ``[("a", "x:y"), ("b", None)]``."""
    if isinstance(chain, str):
        chain = CHAINS.get(chain, chain)
        filters = []
        for part in chain.split(","):
            name, _, args = part.strip().partition("=")
            if not name:
                raise RestorationError(f"filter chain {chain!r}: empty filter name")
            filters.append((name, args or None))
        return filters
    return [(name, args) for name, args in chain]


def run_filter_chain(frames: torch.Tensor, chain: str | Sequence[tuple[str, str | None]], *, fps: float = 24.0) -> torch.Tensor:
    """Run an FFmpeg filter chain over a clip (T, C, H, W) in [0, 1]; returns the same shape.

    Frames are pushed one by one and pulled as they come; filters that hold frames back (temporal
    ones) give the rest when the end of stream is pushed.
    """
    if not isinstance(frames, torch.Tensor) or frames.ndim != 4 or frames.shape[1] not in (1, 3):
        shape = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise ValueError(f"expected frames (T, C, H, W) with C 1 or 3, got {shape}")
    count, channels, height, width = frames.shape
    pix_fmt = "gray" if channels == 1 else "rgb24"
    time_base = Fraction(1) / Fraction(fps).limit_denominator(1001)
    filters = _fit_to_clip(parse_chain(chain), count)

    graph = av.filter.Graph()
    try:
        nodes = [graph.add_buffer(width=width, height=height, format=pix_fmt, time_base=time_base)]
        nodes += [graph.add(name, args) for name, args in filters]
        # Pin the output format so the graph converts back to ours however the filters negotiate.
        nodes += [graph.add("format", pix_fmt), graph.add("buffersink")]
        graph.link_nodes(*nodes).configure()
    except (av.FFmpegError, ValueError) as exc:
        raise RestorationError(f"filter chain {_describe(filters)}: {exc}") from None

    arrays = (frames.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out: list[np.ndarray] = []

    def drain() -> None:
        while True:
            try:
                frame = graph.vpull()
            except (av.BlockingIOError, av.EOFError):
                return
            out.append(frame.to_ndarray(format=pix_fmt).reshape(height, width, channels))

    for index, array in enumerate(arrays):
        frame = av.VideoFrame.from_ndarray(array[..., 0] if channels == 1 else array, format=pix_fmt)
        frame.pts, frame.time_base = index, time_base
        graph.vpush(frame)
        drain()
    graph.vpush(None)  # end of stream: delaying filters flush what they hold
    drain()
    if len(out) != count:
        raise RestorationError(f"filter chain {_describe(filters)} gave {len(out)} frames for {count}")
    result = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(frames.dtype) / 255.0
    return result.to(frames.device)


def ffmpeg_chain(frames: torch.Tensor, chain: str = "nlmeans") -> torch.Tensor:
    """The registry's functional form: one of the named ``CHAINS``."""
    return run_filter_chain(frames, CHAINS[chain])


class FFmpegChain(torch.nn.Module):
    def __init__(self, chain: str = "nlmeans"):
        super().__init__()
        if chain not in CHAINS:
            raise ValueError(f"unknown chain {chain!r} (known: {', '.join(CHAINS)})")
        self.chain = chain

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return ffmpeg_chain(frames, self.chain)


def _fit_to_clip(filters: list[tuple[str, str | None]], count: int) -> list[tuple[str, str | None]]:
    """FFmpeg's deflicker darkens every frame of a clip shorter than its window (it averages over
    ``size`` frames it never got), so its window is shortened to the clip; one frame cannot flicker."""
    fitted = []
    for name, args in filters:
        if name == "deflicker":
            options = dict(part.split("=", 1) for part in (args or "").split(":") if "=" in part)
            size = int(options.get("size", options.get("s", 5)))
            if count < 2:
                continue
            if size > count:
                options.pop("s", None)
                options["size"] = str(count)
                args = ":".join(f"{key}={value}" for key, value in options.items())
        fitted.append((name, args))
    return fitted


def _describe(filters: list[tuple[str, str | None]]) -> str:
    return ",".join(name if args is None else f"{name}={args}" for name, args in filters)


FFMPEG_OP = OpSpec(
    name="ffmpeg",
    function=ffmpeg_chain,
    module=FFmpegChain,
    params={"chain": Param(str, "nlmeans", choices=tuple(CHAINS), help="named FFmpeg filter chain")},
    temporal_radius=CHAIN_TEMPORAL_RADIUS,
    description="classical FFmpeg chain: removegrain + deflicker + a denoiser (nlmeans, atadenoise or bm3d)",
)
