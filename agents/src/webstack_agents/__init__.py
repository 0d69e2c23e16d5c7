"""Instance software for the webstack.aws collection."""

__version__ = "1.0.0"
