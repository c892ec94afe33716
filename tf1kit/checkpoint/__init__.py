"""Name-based TF1 checkpoints."""

from tf1kit.checkpoint.tf1_checkpoint import load_tf1_checkpoint

__all__ = ["load_tf1_checkpoint"]
