"""Event management for summits and seminars."""

__version__ = "0.1.0"
