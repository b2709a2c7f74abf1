"""What each figure shows, independent of how it is drawn.

Every figure of iqnas has one data function here (``pareto_data``, ``progress_data``,
``main_effects_data``, ``interaction_data``, ``depth_data``, ``width_data``, ``quality_data``)
returning plain arrays and labels (axis titles carry their units). The matplotlib files of
:mod:`iqnas.plots` and the plotly figures of the HTML report (:mod:`iqnas.reporting`) both draw
from these, so a PNG and the report's figure show the same points. Nothing here imports a
plotting library.
"""

from iqnas.plotdata.effects import (
    BarData,
    EffectsData,
    MatrixData,
    depth_data,
    interaction_data,
    main_effects_data,
    width_data,
)
from iqnas.plotdata.labels import axis_label
from iqnas.plotdata.pareto import ParetoData, pareto_data
from iqnas.plotdata.progress import ProgressData, progress_data, random_search_curve
from iqnas.plotdata.quality import QualityData, quality_data
from iqnas.plotdata.series import Series

__all__ = ["BarData", "EffectsData", "MatrixData", "ParetoData", "ProgressData", "QualityData",
           "Series", "axis_label", "depth_data", "interaction_data", "main_effects_data",
           "pareto_data", "progress_data", "quality_data", "random_search_curve", "width_data"]
