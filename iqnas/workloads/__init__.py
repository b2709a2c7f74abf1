"""Real tiny workloads trained for real: data, training functions and their resource models.

:mod:`iqnas.workloads.digits` prepares scikit-learn's digits at a chosen resolution and bit depth
and trains the CNN of the ``digits`` space; :mod:`iqnas.workloads.footprint` gives its analytic
flash / RAM / MAC QuadraticForms and recounts them from the exported network;
:mod:`iqnas.workloads.data_aware` runs the data-aware against architecture-only sweep.
"""
