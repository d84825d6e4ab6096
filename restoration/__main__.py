"""``python -m restoration``: the engine's command line."""

import os

# Set before torch is imported (OpenMP reads it once, when torch loads): idle torch threads sleep
# instead of spinning. On a shared CPU the spinning multiplied the film preset's CPU time by 2.6-6.4
# and its wall time by 2.3-6.4 (480p, 2 threads, load 9-11: docs/BENCHMARKS.md, issue #19).
# `make bench` and the workers' setup (README) set it too; a value the user chose is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from restoration.cli import main  # noqa: E402  (after the OpenMP setting)

raise SystemExit(main())
