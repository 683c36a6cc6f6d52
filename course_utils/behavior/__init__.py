"""Behaviour analysis for any subject, mouse or network (shared by the Allen and NeuroGym chapters).

* :mod:`course_utils.behavior.sdt` – signal detection theory: hit/false-alarm rates, d', criterion.
* :mod:`course_utils.behavior.psychometric` – psychometric curves (logistic / Weibull fits).

This package never imports a source module (allen, tasks, ...): it works on plain arrays and tables.
"""
