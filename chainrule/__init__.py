"""chainrule: the command line that composes the engine (autograd), nn and viz."""

__version__ = "0.1.0"
