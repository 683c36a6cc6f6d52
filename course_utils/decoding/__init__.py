"""Decoding baselines: from binned spike counts to kinematics (or to a trial's target), evaluated honestly.

Estimators follow scikit-learn (``fit(X, y)``, ``predict(X)``, ``score``, ``get_params``; parameters stored
unchanged, learned state ends in ``_``; a 1-D ``y`` gives 1-D predictions) and take ``X`` of shape
``(T, lags, N)`` (NeuroTask's ``process_data``) or ``(T, features)``, and ``y`` of shape ``(T,)`` or
``(T, outputs)`` (decoders) or one label per row (classifiers).

Regression (kinematics per time bin):

* :mod:`~course_utils.decoding.linear` – :class:`WienerFilter`, :class:`WienerCascade`, :class:`RidgeDecoder`.
* :mod:`~course_utils.decoding.kalman` – :class:`KalmanFilterDecoder`.
* :mod:`~course_utils.decoding.bayes` – :class:`NaiveBayesDecoder` (Poisson tuning curves on a grid).
* :mod:`~course_utils.decoding.trees` – :class:`BoostedTreesDecoder` (XGBoost if installed, else
  scikit-learn's histogram gradient boosting).
* :mod:`~course_utils.decoding.svr` – :class:`SVRDecoder`.
* :mod:`~course_utils.decoding.neural` – :class:`SimpleRNNDecoder`, :class:`GRUDecoder`,
  :class:`LSTMDecoder`, :class:`FeedForwardDecoder` (torch; ``COURSE_FAST=1`` trains for fewer epochs).

Classification (one label per trial, e.g. the reach target):

* :mod:`~course_utils.decoding.classification` – :func:`trial_windows`, :func:`movement_onset`, :func:`sessions_from_trials`,
  :class:`WienerClassifier`, :func:`chance_accuracy`, :func:`angle_labels`; and :class:`NaiveBayesClassifier`,
  :class:`BoostedTreesClassifier`, :class:`SimpleRNNClassifier`, :class:`GRUClassifier`,
  :class:`LSTMClassifier`, :class:`FeedForwardClassifier`.

Evaluation:

* :mod:`~course_utils.decoding.metrics` – :func:`r2_score_per_output` (NeuroTask's R²),
  :func:`correlation_per_output`.
* :mod:`~course_utils.decoding.benchmark` – :func:`benchmark_decoders`, :func:`benchmark_classifiers` over
  many sessions -> tidy tables.
* :mod:`~course_utils.decoding.tuning` – :class:`TunedDecoder`, :func:`tuned`, :func:`search_space`:
  hyperparameters chosen on the validation split.
* :mod:`~course_utils.decoding.simulate` – decoding problems with known answers.

This package never imports a source module (neurotask, allen, ...): it works on plain arrays and tables.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

from .bayes import NaiveBayesClassifier, NaiveBayesDecoder
from .benchmark import (
    CLASSIFICATION_COLUMNS,
    RESULT_COLUMNS,
    SessionSplits,
    benchmark_classifiers,
    benchmark_decoders,
    sessions_from_lists,
)
from .classification import (
    WienerClassifier,
    angle_labels,
    chance_accuracy,
    movement_onset,
    sessions_from_trials,
    trial_windows,
)
from .kalman import KalmanFilterDecoder
from .linear import RidgeDecoder, WienerCascade, WienerFilter
from .metrics import correlation_per_output, r2_score_per_output
from .neural import (
    FAST_ENV,
    FeedForwardClassifier,
    FeedForwardDecoder,
    GRUClassifier,
    GRUDecoder,
    LSTMClassifier,
    LSTMDecoder,
    SimpleRNNClassifier,
    SimpleRNNDecoder,
    default_max_epochs,
    fast_mode,
)
from .svr import SVRDecoder
from .trees import BoostedTreesClassifier, BoostedTreesDecoder, default_n_estimators, xgboost_available
from .tuning import TunedDecoder, default_n_iter, search_space, tuned, tuning_report

__all__ = [
    "WienerFilter",
    "WienerCascade",
    "RidgeDecoder",
    "KalmanFilterDecoder",
    "NaiveBayesDecoder",
    "BoostedTreesDecoder",
    "SVRDecoder",
    "SimpleRNNDecoder",
    "GRUDecoder",
    "LSTMDecoder",
    "FeedForwardDecoder",
    "WienerClassifier",
    "NaiveBayesClassifier",
    "BoostedTreesClassifier",
    "SimpleRNNClassifier",
    "GRUClassifier",
    "LSTMClassifier",
    "FeedForwardClassifier",
    "xgboost_available",
    "default_n_estimators",
    "default_max_epochs",
    "fast_mode",
    "FAST_ENV",
    "r2_score_per_output",
    "correlation_per_output",
    "chance_accuracy",
    "angle_labels",
    "trial_windows",
    "movement_onset",
    "sessions_from_trials",
    "benchmark_decoders",
    "benchmark_classifiers",
    "sessions_from_lists",
    "SessionSplits",
    "RESULT_COLUMNS",
    "CLASSIFICATION_COLUMNS",
    "TunedDecoder",
    "tuned",
    "search_space",
    "default_n_iter",
    "tuning_report",
]
