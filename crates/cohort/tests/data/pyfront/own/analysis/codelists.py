# Codelists shared by the study definition, as cohortextractor studies keep them.
from cohortextractor import codelist_from_csv, combine_codelists, filter_codes_by_category

asthma_codes = codelist_from_csv("codelists/asthma.csv", system="ctv3", column="CTV3ID")
copd_codes = codelist_from_csv("codelists/copd.csv", system="ctv3", column="CTV3ID")
respiratory_codes = combine_codelists(asthma_codes, copd_codes)
smoking_codes = codelist_from_csv(
    "codelists/smoking.csv", system="ctv3", column="CTV3Code", category_column="Category"
)
current_smoking_codes = filter_codes_by_category(smoking_codes, include=["S"])

CONDITIONS = {"asthma": asthma_codes, "copd": copd_codes, "respiratory": respiratory_codes}
