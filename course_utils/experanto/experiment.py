"""An experiment folder: every modality, each on its own clock, queried at common times.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import BadFileError, read_json
from .interpolators import ScreenInterpolator, SequenceInterpolator, read_modality_meta

__all__ = ["Experiment", "data_key_of"]


def data_key_of(root: str | Path) -> str:
    """The experiment's name, as upstream derives it: ``data_key`` from ``meta.json``, else its ``scan_key``
    (``animal_id-session-scan_idx``), else the folder's name.

    Examples
    --------
    >>> data_key_of("/data/mouse_A")
    'mouse_A'

    Taught in chapter 04_experanto_chunks.
    """
    root = Path(root)
    meta_path = root / "meta.json"
    if meta_path.is_file():
        meta = read_json(meta_path, fix='It holds the experiment\'s name, e.g. {"data_key": "mouse_A"}: fix or delete it.')
        if isinstance(meta, dict) and "data_key" in meta:
            return str(meta["data_key"])
        if isinstance(meta, dict) and "scan_key" in meta:
            key = meta["scan_key"]
            if isinstance(key, dict):
                try:
                    return f"{key['animal_id']}-{key['session']}-{key['scan_idx']}"
                except KeyError as err:
                    raise BadFileError(meta_path, f"scan_key lacks {err}.", "Give animal_id, session and scan_idx, "
                                       "or a data_key.") from err
            return str(key)
    return root.name


class Experiment:
    """Open an experiment folder and answer "what were all modalities at these times?".

    Parameters
    ----------
    root
        The experiment folder; every subfolder with a ``meta.yml`` is a modality.
    modality_config
        Per modality, an optional ``interpolation`` dict (``interpolation_mode``, ``rounding``,
        ``keep_nans``; ``keep_nans`` may also sit at the modality level, where upstream's default config puts
        it); modalities not named in the config are still opened (with the defaults) unless ``modalities``
        restricts them. Screen frames come at their stored size (``ChunkDataset`` applies ``rescale``).
    modalities
        Open only these modalities (error if one is missing from the folder).
    cache_data
        Read sequences into memory instead of memory-mapping them.
    cache_dir
        Where start-up caches live (never inside ``root``).
    upstream_clock
        Sequences compute sample indices as upstream does (see :mod:`.interpolators`); for comparisons only.

    Examples
    --------
    >>> exp = Experiment(get_source("experanto") / "mixed")            # doctest: +SKIP
    >>> values, valid = exp.interpolate(np.array([10.0, 10.5]))         # doctest: +SKIP
    >>> values["treadmill"].shape                                       # doctest: +SKIP
    (2, 1)

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(
        self,
        root: str | Path,
        modality_config: dict[str, Any] | None = None,
        modalities: list[str] | None = None,
        cache_data: bool = False,
        cache_dir: str | Path | None = None,
        upstream_clock: bool = False,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"Experiment folder {self.root} does not exist.")
        found = sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / "meta.yml").is_file())
        if not found:
            raise FileNotFoundError(
                f"{self.root} holds no modality folders (subfolders with a meta.yml such as screen/, responses/)."
            )
        wanted = list(modalities) if modalities is not None else found
        missing = [m for m in wanted if m not in found]
        if missing:
            raise FileNotFoundError(
                f"Modality {missing} requested but {self.root} only has {found}; drop it from the config or "
                "add the folder."
            )
        modality_config = modality_config or {}
        self.devices: dict[str, ScreenInterpolator | SequenceInterpolator] = {}
        for name in wanted:
            folder = self.root / name
            kind = read_modality_meta(folder)["modality"]
            cfg = modality_config.get(name) or {}
            interp_cfg = dict(cfg.get("interpolation") or {})
            if kind == "screen":
                self.devices[name] = ScreenInterpolator(folder, cache_dir=cache_dir)
            elif kind == "sequence":
                self.devices[name] = SequenceInterpolator(
                    folder,
                    interpolation_mode=interp_cfg.get("interpolation_mode", "nearest_neighbor"),
                    rounding=interp_cfg.get("rounding", "floor"),
                    cache_data=cache_data,
                    keep_nans=bool(interp_cfg.get("keep_nans", cfg.get("keep_nans", False))),
                    upstream_clock=upstream_clock,
                )
            else:
                raise ValueError(f"{folder / 'meta.yml'}: unknown modality {kind!r} (screen or sequence).")
        self.data_key = data_key_of(self.root)

    @property
    def modalities(self) -> list[str]:
        """Names of the opened modalities."""
        return list(self.devices)

    @property
    def start_time(self) -> float:
        """Start of the range where every modality has data (s)."""
        return max(d.valid_start for d in self.devices.values())

    @property
    def end_time(self) -> float:
        """End (inclusive) of the range where every modality has data (s)."""
        return min(d.valid_end for d in self.devices.values())

    def interpolate(
        self, times: np.ndarray, modalities: list[str] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Every (or the named) modality at ``times`` (s).

        Returns
        -------
        values : dict
            Per modality, the values at the valid times: screen (n, H, W), sequences (n, n_signals).
        valid : dict
            Per modality, a (len(times),) bool mask of the times inside that modality's range.
        """
        times = np.asarray(times, dtype=np.float64)
        values, valid = {}, {}
        for name in modalities or self.modalities:
            if name not in self.devices:
                raise KeyError(f"{name!r} is not a modality of {self.root} (it has {self.modalities}).")
            values[name], valid[name] = self.devices[name].interpolate(times)
        return values, valid

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{n}@{d.sampling_rate:g}Hz" for n, d in self.devices.items()
        )
        return f"Experiment({self.data_key!r}: {parts}; {self.start_time:.2f}-{self.end_time:.2f} s)"
