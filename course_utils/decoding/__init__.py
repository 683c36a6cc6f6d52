"""Decoding baselines: from binned spike counts to kinematics, evaluated honestly.

Estimators follow scikit-learn (``fit(X, y)``, ``predict(X)``, ``get_params``; parameters stored unchanged,
learned state ends in ``_``) and take ``X`` of shape ``(T, lags, N)`` (NeuroTask's ``process_data``) or
``(T, features)``, and ``y`` of shape ``(T, outputs)``.

* :mod:`~course_utils.decoding.linear` – :class:`WienerFilter`, :class:`WienerCascade`, :class:`RidgeDecoder`.
* :mod:`~course_utils.decoding.kalman` – :class:`KalmanFilterDecoder`.
* :mod:`~course_utils.decoding.neural` – :class:`GRUDecoder`, :class:`LSTMDecoder`, :class:`FeedForwardDecoder`
  (torch; ``COURSE_FAST=1`` trains for fewer epochs).
* :mod:`~course_utils.decoding.metrics` – :func:`r2_score_per_output` (NeuroTask's R²),
  :func:`correlation_per_output`.
* :mod:`~course_utils.decoding.benchmark` – :func:`benchmark_decoders` over many sessions -> tidy table.
* :mod:`~course_utils.decoding.simulate` – decoding problems with known answers.

This package never imports a source module (neurotask, allen, ...): it works on plain arrays.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

from .benchmark import RESULT_COLUMNS, SessionSplits, benchmark_decoders, sessions_from_lists
from .kalman import KalmanFilterDecoder
from .linear import RidgeDecoder, WienerCascade, WienerFilter
from .metrics import correlation_per_output, r2_score_per_output
from .neural import FAST_ENV, FeedForwardDecoder, GRUDecoder, LSTMDecoder, default_max_epochs, fast_mode

__all__ = [
    "WienerFilter",
    "WienerCascade",
    "RidgeDecoder",
    "KalmanFilterDecoder",
    "GRUDecoder",
    "LSTMDecoder",
    "FeedForwardDecoder",
    "default_max_epochs",
    "fast_mode",
    "FAST_ENV",
    "r2_score_per_output",
    "correlation_per_output",
    "benchmark_decoders",
    "sessions_from_lists",
    "SessionSplits",
    "RESULT_COLUMNS",
]
