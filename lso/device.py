"""Choosing the torch device at the entry point: ``auto`` (CUDA when present, CPU otherwise), ``cpu`` or ``cuda[:k]``."""

from __future__ import annotations

import torch

from lso.errors import LsoError


class DeviceError(LsoError):
    """A device that is not available here, or a device name torch does not know."""


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """The device named by ``spec``; ``auto`` picks CUDA when available, else CPU.

    Raises:
        DeviceError: when CUDA is asked but absent (or the index is out of range), or ``spec`` is not a device.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    text = spec.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError as err:
        raise DeviceError(f"unknown device {spec!r}: use auto, cpu or cuda[:index]") from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {spec!r} asked but CUDA is not available on this machine (use --device cpu or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"device {spec!r} asked but this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise DeviceError(f"device {spec!r} is not supported: use auto, cpu or cuda[:index]")
    return device


def describe_device(device: torch.device) -> str:
    """A human name for the record, e.g. ``cpu (2 threads)`` or ``cuda:0 (NVIDIA H100)``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"
