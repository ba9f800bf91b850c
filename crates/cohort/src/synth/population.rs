//! The fixed demographic inputs of the generator: the UK 2018 age pyramid, the sex ratio,
//! England's regions and their populations, and background clinical codes.

/// UK population by 5-year age band, thousands (ONS mid-2018, as cohortextractor's
/// `uk_population_bands_2018.csv`); the last band is ages 100 and over.
pub const AGE_BANDS_2018: [(u32, u32); 21] = [
    (0, 3914),
    (5, 4139),
    (10, 3859),
    (15, 3669),
    (20, 4185),
    (25, 4527),
    (30, 4463),
    (35, 4372),
    (40, 3993),
    (45, 4507),
    (50, 4674),
    (55, 4294),
    (60, 3673),
    (65, 3396),
    (70, 3252),
    (75, 2236),
    (80, 1673),
    (85, 1024),
    (90, 448),
    (95, 123),
    (100, 13),
];

/// Oldest age generated (exclusive), as cohortextractor's `generate_ages`.
pub(crate) const MAX_AGE: usize = 110;

/// Probability of each age 0..110: a band's count spread evenly over its five years; ages
/// 100-109 share the 100+ band's count evenly over ten years.
pub(crate) fn age_weights() -> Vec<f64> {
    (0..MAX_AGE)
        .map(|age| {
            let band = AGE_BANDS_2018
                .iter()
                .rev()
                .find(|(start, _)| age as u32 >= *start)
                .map_or(0, |(_, count)| *count);
            let width = if age >= 100 { 10.0 } else { 5.0 };
            f64::from(band) / width
        })
        .collect()
}

/// Sex as stored, with its share of the population (ONS 2018 ratio; a few intersex and
/// unknown records, as in primary care data).
pub(crate) const SEXES: [(&str, f64); 4] =
    [("F", 0.5055), ("M", 0.4925), ("I", 0.0005), ("U", 0.0015)];

/// England's NUTS1 regions with their mid-2018 populations (millions, ONS) and the number of
/// STPs in each.
pub(crate) const REGIONS: [(&str, f64, u32); 9] = [
    ("North East", 2.657, 2),
    ("North West", 7.293, 3),
    ("Yorkshire and the Humber", 5.480, 4),
    ("East Midlands", 4.804, 4),
    ("West Midlands", 5.900, 6),
    ("East of England", 6.201, 6),
    ("London", 8.908, 5),
    ("South East", 9.134, 6),
    ("South West", 5.600, 6),
];

/// A background clinical code: CTV3, SNOMED CT, relative frequency, and for measurements the
/// mean and standard deviation of `numeric_value`.
pub(crate) struct BackgroundCode {
    pub ctv3: &'static str,
    pub snomedct: &'static str,
    pub weight: f64,
    pub value: Option<(f64, f64)>,
}

const fn code(
    ctv3: &'static str,
    snomedct: &'static str,
    weight: f64,
    value: Option<(f64, f64)>,
) -> BackgroundCode {
    BackgroundCode {
        ctv3,
        snomedct,
        weight,
        value,
    }
}

/// Routine primary-care codes that make up most of the clinical events.
pub(crate) const BACKGROUND_CODES: [BackgroundCode; 16] = [
    code("2469.", "271649006", 14.0, Some((132.0, 16.0))), // systolic blood pressure
    code("246A.", "271650006", 14.0, Some((80.0, 10.0))),  // diastolic blood pressure
    code("22K..", "60621009", 6.0, Some((27.5, 5.0))),     // body mass index
    code("22A..", "27113001", 6.0, Some((78.0, 16.0))),    // body weight
    code("42W..", "43396009", 4.0, Some((44.0, 11.0))),    // HbA1c
    code("44P..", "77068002", 4.0, Some((5.0, 1.1))),      // serum cholesterol
    code("137R.", "77176002", 3.0, None),                  // current smoker
    code("1371.", "266919005", 5.0, None),                 // never smoked tobacco
    code("137S.", "8517006", 3.0, None),                   // ex-smoker
    code("65E..", "86198006", 5.0, None),                  // influenza vaccination
    code("G20..", "59621000", 3.0, None),                  // essential hypertension
    code("H33..", "195967001", 2.0, None),                 // asthma
    code("C10..", "73211009", 2.0, None),                  // diabetes mellitus
    code("H3...", "13645005", 1.0, None),                  // chronic obstructive lung disease
    code("9N1..", "185316007", 15.0, None),                // seen in surgery
    code("9N31.", "185317003", 13.0, None),                // telephone encounter
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_weights_follow_the_bands() {
        let w = age_weights();
        assert_eq!(w.len(), 110);
        let total: f64 = AGE_BANDS_2018.iter().map(|(_, c)| f64::from(*c)).sum();
        assert_eq!(total, 66_434.0);
        assert!((w.iter().sum::<f64>() - total).abs() < 1e-6);
        assert_eq!(w[0], 3914.0 / 5.0);
        assert_eq!(w[54], 4674.0 / 5.0);
        assert_eq!(w[109], 1.3);
    }
}
