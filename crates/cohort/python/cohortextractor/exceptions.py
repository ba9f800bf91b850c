"""The exception classes studies may catch or raise, as in cohortextractor."""


class ValidationError(Exception):
    human_name = "Validation error"


class DummyDataValidationError(ValidationError):
    human_name = "Dummy data error"


class MissingParameterError(ValidationError):
    human_name = "Missing --param error"

    def __init__(self, key):
        ValidationError.__init__(self, key)
        self.key = key

    def __str__(self):
        return "no --param %s=... was given (params: %s)" % (
            self.key,
            ", ".join(sorted(_given())) or "none",
        )


def _given():
    import cohortextractor

    return list(cohortextractor.params)
