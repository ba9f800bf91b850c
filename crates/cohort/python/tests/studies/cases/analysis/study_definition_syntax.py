from cohortextractor import StudyDefinition, patients

study = StudyDefinition(population=patients.all())
age_limit = = 120  # @syntax
