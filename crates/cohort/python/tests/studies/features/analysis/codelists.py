# Codelists shared by the study definitions, as many studies keep them in analysis/codelists.py.
from cohortextractor import (
    codelist,
    codelist_from_csv,
    combine_codelists,
    filter_codes_by_category,
)

asthma_codes = codelist_from_csv("codelists/asthma.csv", system="ctv3", column="CTV3ID")  # @cl_asthma
copd_codes = codelist_from_csv("codelists/copd.csv", system="ctv3", column="CTV3ID")  # @cl_copd
smoking_codes = codelist_from_csv(  # @cl_smoking
    "codelists/smoking.csv", system="ctv3", column="CTV3Code", category_column="Category"
)
respiratory_codes = combine_codelists(asthma_codes, copd_codes)  # @cl_respiratory
current_smoker_codes = filter_codes_by_category(smoking_codes, include=["S"])  # @cl_current
covid_codes = codelist(["U071", "U072"], system="icd10")  # @cl_covid
ethnicity_codes = codelist([("XaBVJ", "1"), ("137R.", "2")], system="ctv3")  # @cl_ethnicity

# Codelists kept in a dict, not bound to names of their own: named after their CSV files.
CONDITIONS = {
    "diabetes": codelist_from_csv(  # @cl_diabetes
        "codelists/opensafely-diabetes.csv", system="ctv3", column="CTV3ID"
    ),
    "hypertension": codelist_from_csv(  # @cl_hypertension
        "codelists/opensafely-hypertension.csv", system="ctv3", column="CTV3ID"
    ),
}

# Changed in place after loading: written out with its codes, not as a CSV reference.
copd_extended_codes = codelist_from_csv("codelists/copd.csv", system="ctv3", column="CTV3ID")  # @cl_copd_extended
copd_extended_codes.append("H32..")

# Never used, and its file does not exist: neither read nor written out.
unused_codes = codelist_from_csv("codelists/not-there.csv", system="ctv3", column="CTV3ID")
