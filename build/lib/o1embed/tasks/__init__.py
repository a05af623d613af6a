"""o1embed units of work: plain, typed functions and classes that flows wire together."""
