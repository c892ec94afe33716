"""Compatibility with code written for the official shim."""

from tf1kit.compat.install import install, is_installed, uninstall

__all__ = ["install", "is_installed", "uninstall"]
