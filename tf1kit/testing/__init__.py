"""Tools for checking a migration value for value."""

from tf1kit.testing.determinism import DeterministicRandomTestTool

__all__ = ["DeterministicRandomTestTool"]
