"""Shared vocabulary of the Civitai packages."""

from __future__ import annotations

REACTIONS = ("Like", "Dislike", "Laugh", "Cry", "Heart")
"""The ``ReviewReactions`` enum: each value is used as a metricType."""
