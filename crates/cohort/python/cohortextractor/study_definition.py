"""`StudyDefinition(...)`: records the population, the variables and the settings."""

from ._recording import Signature, caller_origin

SIGNATURE = Signature(
    "StudyDefinition", "population, default_expectations=None, index_date=None, **covariates"
)


class StudyDefinition:
    """`StudyDefinition(population, default_expectations=None, index_date=None, **variables)`.

    Records its arguments (variables in the order given); validation is the front end's.
    """

    def __init__(*args, **kwargs):
        self, args = args[0], args[1:]
        origin = caller_origin()
        named, _ = SIGNATURE.bind(args, kwargs, origin)
        settings = {"population", "default_expectations", "index_date"}
        self._origin = origin
        self._settings = dict((k, v) for k, v in named if k in settings)
        self._variables = [(k, v) for k, v in named if k not in settings]
        self.population = self._settings.get("population")
        self.default_expectations = self._settings.get("default_expectations") or {}
        self.index_date = self._settings.get("index_date")
        self.covariate_definitions = dict(self._variables)

    def __repr__(self):
        return "<StudyDefinition at %s>" % self._origin
