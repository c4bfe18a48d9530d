"""What machine a bench ran on: ratios hold only for the run (and the CPU) that printed them."""

from __future__ import annotations

import os

from bot.compute import ComputeError, cpu_model, inference_path  # cpu_model: benches import it from here


def describe() -> str:
    """Two lines: the CPU model and how many cores this process may use; the compute path
    (precision and why) that bot.compute chooses here."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        path = inference_path().describe()
    except ComputeError as err:
        path = f"compute path: none ({err})"
    return f"CPU: {cpu_model()}, {cores} cores\n{path}"
