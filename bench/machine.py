"""What machine a bench ran on: ratios hold only for the run (and the CPU) that printed them."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> str:
    """Two lines: the CPU model and how many cores this process may use; the compute path
    (precision and why) that bot.compute chooses here."""
    from bot.compute import ComputeError, inference_path

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        path = inference_path().describe()
    except ComputeError as err:
        path = f"compute path: none ({err})"
    return f"CPU: {cpu_model()}, {cores} cores\n{path}"
