"""`python -m restoration bench [--quick] [--only restore,damage,shots,interp,moving,speed,colour,delivery,sequences,scans]`: the engine's benchmarks.

Each part is a module with ``run(quick) -> rows`` where rows is a list of dicts (one table) or a
dict of titled lists (several tables); this prints them as markdown, ready for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
from typing import Any

import torch

from restoration.errors import RestorationError

# part -> its module (imported when the part runs, so --help and --only stay fast).
PARTS: dict[str, str] = {
    name: f"restoration.bench.{name}" for name in ("restore", "damage", "shots", "interp", "moving", "speed", "colour", "delivery", "sequences", "scans")
}


def median(values) -> float:
    """The middle of the values (the upper of the two middle ones for an even count): a timing's
    figure over repeated runs, one of the values actually measured."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def precision_recall_f1(matched: int, found: int, true: int) -> tuple[float, float, float]:
    """Detection scores from counts: precision (1.0 when nothing was found), recall (1.0 when
    there was nothing to find) and their harmonic mean F1 (0.0 when both are 0)."""
    precision = matched / found if found else 1.0
    recall = matched / true if true else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def markdown_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)\n"
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if value == float("inf"):
            return "inf"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"
    return str(value)


def cli_bench(args) -> int:
    names = list(PARTS) if not args.only else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in PARTS]
    if unknown or not names:
        raise RestorationError(f"--only: unknown part {unknown[0] if unknown else ''!r} (known: {', '.join(PARTS)})")
    print(f"# Engine benchmarks{' (quick)' if args.quick else ''}\n")
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, {torch.get_num_threads()} torch threads,"
        f" {platform.machine()} {platform.processor() or ''}".rstrip() + "\n"
    )
    for name in names:
        started = time.perf_counter()
        result = importlib.import_module(PARTS[name]).run(args.quick)
        tables = result if isinstance(result, dict) else {name: result}
        for title, rows in tables.items():
            print(f"## {title}\n" if title != name else f"## Engine: {title}\n")
            print(markdown_table(rows))
        print(f"({name}: {time.perf_counter() - started:.0f} s)\n", file=sys.stderr)
        sys.stdout.flush()
    return 0
