"""GPU check: train each of the course's three loops a few steps on each device and print device and time.

Run on a machine with an NVIDIA GPU (e.g. a Colab GPU runtime, after installing the course)::

    python benchmarks/gpu_check.py               # cpu and cuda, small and large sizes (a few minutes: every case runs twice, the first as warm-up)
    python benchmarks/gpu_check.py --devices cpu # what runs anywhere (proves the script works)

For each loop (neural decoder, task network, Sensorium model) and size it prints the device the training
actually used, the seconds it took, and the device ``COURSE_DEVICE=auto`` picks for that size
(``course_utils.training.select_device``): where ``auto`` picks the CPU but cuda is faster (or the other way
round), ``GPU_MIN_WORK`` in course_utils/training.py needs moving. The first cuda run of each loop includes
CUDA's start-up (kernels load lazily); each case is therefore run twice and the second time is printed.
Figures depend on the machine: report them with its CPU and GPU.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from course_utils.training import select_device


def _timed(fn) -> float:
    fn()  # warm-up: CUDA context, lazy kernel loading, first allocations
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def decoder_case(device: str, hidden: int, batch: int) -> tuple[str, float]:
    from course_utils.decoding import GRUDecoder

    rng = np.random.default_rng(0)
    X = rng.poisson(2.0, (2000, 6, 60)).astype(float)
    y = X[:, -2, :2] @ rng.normal(size=(2, 2))
    dec = GRUDecoder(hidden_size=hidden, batch_size=batch, max_epochs=2, patience=10, progress=False,
                     device=device, num_threads=None)
    seconds = _timed(lambda: dec.fit(X, y))
    return str(select_device(device, work=hidden * batch)), seconds


def task_case(device: str, hidden: int, batch: int) -> tuple[str, float]:
    from course_utils.tasks import RecurrentNetwork, make_dataset, set_seed, train_network

    def run():
        set_seed(0)
        net = RecurrentNetwork(3, 3, hidden_size=hidden, cell="lstm")
        ds = make_dataset("PerceptualDecisionMaking-v0", batch_size=batch, seq_len=100, seed=0)
        seen = []
        train_network(net, ds, n_steps=20, progress=False, device=device, callback_every=19,
                      callback=lambda step, h: seen.append(str(next(net.parameters()).device)))
        run.devices = seen

    seconds = _timed(run)
    return ",".join(sorted(set(run.devices))), seconds


def sensorium_case(device: str, root: Path, hidden: int) -> tuple[str, float]:
    from course_utils.sensorium import TrainConfig, train_model

    config = TrainConfig(epochs=1, max_steps=10, batch_size=4, frames_per_clip=60, hidden_channels=hidden,
                         progress=False)
    seconds = _timed(lambda: train_model(root, config, device=device))
    return str(select_device(device)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", default="cpu,cuda", help="comma-separated: cpu, cuda")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    args = parser.parse_args()
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if "cuda" in devices and not torch.cuda.is_available():
        raise SystemExit("No CUDA device: run with --devices cpu, or on a machine with an NVIDIA GPU.")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}, CUDA device: {gpu}, CPU threads: {torch.get_num_threads()}")

    from course_utils.sensorium import write_demo_mice

    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    write_demo_mice(tmp, seed=0, n_mice=1, n_neurons=200, n_train=12, n_oracle_clips=2, n_repeats=2)

    sizes = [(64, 128), (256, 256)] if not args.quick else [(64, 128)]
    task_sizes = [(64, 16), (256, 128)] if not args.quick else [(64, 16)]
    conv_sizes = [16, 64] if not args.quick else [16]
    cases = [("decoder GRU", f"hidden {h} x batch {b}", h * b, lambda d, h=h, b=b: decoder_case(d, h, b))
             for h, b in sizes]
    cases += [("task LSTM", f"hidden {h} x batch {b}", h * b, lambda d, h=h, b=b: task_case(d, h, b))
              for h, b in task_sizes]
    cases += [("Sensorium model", f"{c} channels", None, lambda d, c=c: sensorium_case(d, tmp, c))
              for c in conv_sizes]
    print(f"{'loop':<16} {'size':<22} {'asked':<6} {'used':<8} {'seconds':>8}  auto picks")
    for loop, size, work, run in cases:
        auto = select_device("auto", work=work).type
        for device in devices:
            used, seconds = run(device)
            print(f"{loop:<16} {size:<22} {device:<6} {used:<8} {seconds:8.2f}  {auto}", flush=True)


if __name__ == "__main__":
    main()
