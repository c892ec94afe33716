"""Name-based TF1 checkpoints."""

from tf1kit.checkpoint.tf1_checkpoint import (
    CheckpointReadError,
    CheckpointReport,
    load_tf1_checkpoint,
)

__all__ = ["CheckpointReadError", "CheckpointReport", "load_tf1_checkpoint"]
