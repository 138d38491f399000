"""What every benchmark shares: one description of the machine it ran on, and where its results go."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> str:
    """OS, CPU model and count, RAM, Python, torch and its threads, the GPU if torch sees one, and the load
    average now (above the CPU count: the machine was shared and timings are inflated)."""
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    ram = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kb = next((int(line.split()[1]) for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")), 0)
        ram = f", {kb / 1024**2:.0f} GiB RAM" if kb else ""
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}){ram}{gpu}, "
        f"Python {platform.python_version()}, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def save_results(out: str | Path, text: str, data: dict[str, Any]) -> None:
    """Print a benchmark's results table and save it beside its data: ``OUT.md`` and ``OUT.json``."""
    print(text)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text if text.endswith("\n") else text + "\n")
    out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
