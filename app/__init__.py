"""Deskmate: an on-device desktop assistant that proposes tool calls and runs them only once approved."""

__version__ = "0.1.0"
