"""`Measure(...)`: records one measure of the module's `measures` list."""

from ._recording import Signature, caller_origin

SIGNATURE = Signature(
    "Measure", "id, denominator, numerator, group_by=None, small_number_suppression=False"
)


class Measure:
    """A measure as cohortextractor's: `Measure(id, denominator, numerator, group_by=None,
    small_number_suppression=False)` (note the order: denominator before numerator).

    The attributes a study may read are set as cohortextractor sets them; the arguments as
    given are what the recorder writes out. Checks (id, column names, group_by) are left to
    the front end.
    """

    POPULATION_COLUMN = "population"

    def __init__(*args, **kwargs):
        self, args = args[0], args[1:]
        origin = caller_origin()
        named, _ = SIGNATURE.bind(args, kwargs, origin)
        self._arguments = named
        self._origin = origin
        values = dict(named)
        self.id = values.get("id")
        self.denominator = values.get("denominator")
        self.numerator = values.get("numerator")
        group_by = values.get("group_by")
        if group_by is None:
            self.group_by = []
        elif not isinstance(group_by, (list, tuple)):
            self.group_by = [group_by]
        else:
            self.group_by = group_by
        self.small_number_suppression = values.get("small_number_suppression", False)

    def __repr__(self):
        return "<Measure %r at %s>" % (self.id, self._origin)
