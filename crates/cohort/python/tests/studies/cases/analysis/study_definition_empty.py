# Neither `study` nor `measures`.
from cohortextractor import patients

population = patients.all()
