"""The DDP path: 2 CPU processes (gloo) train the same model to identical parameters."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from .conftest import tiny_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, cfg_file: str, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    import torch.distributed as dist

    from geoforensics.train.config import load_config
    from geoforensics.train.loop import train

    res = train(load_config(cfg_file))
    torch.save({k: v.clone() for k, v in res["model"].state_dict().items()}, Path(out_dir) / f"rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_two_cpu_ranks_same_parameters(tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "ddp"
    cfg = tiny_config(tmp_path / "ddp.yaml", tiny_dataset, out, epochs=2, resume="false")
    mp.spawn(_worker, args=(2, _free_port(), str(cfg), str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    saved = torch.load(out / "last.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
        assert torch.equal(a[k], saved[k]), k
    assert (out / "log.csv").read_text().count("\n") == 3
