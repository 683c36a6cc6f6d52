"""What every regression decoder shares: scikit-learn's scoring, tags and output shape.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from ._checks import check_Xy, flatten_lags


class DecoderMixin(RegressorMixin):
    """Mixin for the regression decoders (put it before ``BaseEstimator``).

    * ``score(X, y, sample_weight=None)`` is :func:`sklearn.metrics.r2_score` averaged over outputs, which for
      unit weights equals the mean of NeuroTask's R² per output
      (:func:`~course_utils.decoding.r2_score_per_output`).
    * A 1-D ``y`` at ``fit`` gives 1-D predictions, as in scikit-learn; ``(T, outputs)`` gives ``(T, outputs)``.
    * Tags say the decoders take several outputs.
    """

    def _remember_target_shape(self, y) -> None:
        self._y_1d = y is not None and np.asarray(y).ndim == 1

    def _fit_flat(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Check ``X, y`` for ``fit``, record the fitted layout; return ``X`` with its lags flattened and ``y``."""
        self._remember_target_shape(y)
        X, y = check_Xy(X, y)
        self.input_shape_ = tuple(X.shape[1:])
        Xf = flatten_lags(X)
        self.n_features_in_ = Xf.shape[1]
        self.n_outputs_ = y.shape[1]
        return Xf, y

    def _shape_output(self, pred: np.ndarray) -> np.ndarray:
        return pred[:, 0] if getattr(self, "_y_1d", False) else pred

    def score(self, X, y, sample_weight=None) -> float:
        """R² of the predictions (:func:`sklearn.metrics.r2_score`, uniform average over outputs).

        With ``sample_weight=None`` this is the mean over outputs of NeuroTask's R² (``1 - SSE/SST`` around
        the mean of ``y``).
        """
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
