"""Film restoration engine: a plain Python library (torch, av, numpy, pillow). No Django."""

__all__ = ["__version__"]
__version__ = "0.1.0"
