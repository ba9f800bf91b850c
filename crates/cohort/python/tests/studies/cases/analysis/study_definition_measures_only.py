# No `study`: only measures, which is all cohortextractor's generate_measures reads.
from cohortextractor import Measure

measures = [
    Measure(id="flu_rate", numerator="flu", denominator="population", group_by=("sex",)),  # @m1
]
