//! Everything shared by all batches: practices, sampling tables, cumulative event rates.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use super::population::{age_weights, BACKGROUND_CODES, REGIONS, SEXES};
use super::profile::ymd;
use super::SynthConfig;
use crate::lang::CodeSystem;
use crate::tables::date_to_days;

/// A practice: pseudo id, region index into [`REGIONS`], STP code.
pub(crate) struct Practice {
    pub pseudo_id: i64,
    pub region: usize,
    pub stp: String,
}

/// One row of the code table events point into.
pub(crate) struct Code {
    pub ctv3: Option<String>,
    pub snomedct: Option<String>,
    pub value: Option<(f64, f64)>,
}

/// Cumulative distribution for sampling an index by weight.
pub(crate) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cumulative }
    }

    pub fn is_empty(&self) -> bool {
        self.cumulative.last().is_none_or(|t| *t <= 0.0)
    }

    /// An index drawn with probability proportional to its weight.
    pub fn sample(&self, rng: &mut Pcg64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// Expected events per day over the event window, cumulated, for inverse sampling.
pub(crate) struct Cumulative {
    /// `c[k]` = expected events in `[EVENT_START, EVENT_START + k)`.
    pub c: Vec<f64>,
}

impl Cumulative {
    /// Expected events in `[a, b)` (days since epoch, clipped to the window).
    pub fn between(&self, a: i32, b: i32, start: i32) -> f64 {
        let (i, j) = self.clip(a, b, start);
        if j <= i {
            0.0
        } else {
            self.c[j] - self.c[i]
        }
    }

    pub fn clip(&self, a: i32, b: i32, start: i32) -> (usize, usize) {
        let len = (self.c.len() - 1) as i32;
        let i = (a - start).clamp(0, len) as usize;
        let j = (b - start).clamp(0, len) as usize;
        (i, j)
    }

    /// A day in `[a, b)` drawn with density proportional to the rate.
    pub fn sample_day(&self, a: i32, b: i32, start: i32, rng: &mut Pcg64) -> i32 {
        let (i, j) = self.clip(a, b, start);
        let u = self.c[i] + rng.random::<f64>() * (self.c[j] - self.c[i]);
        // The day k with c[k] <= u < c[k + 1].
        let k = first_above(&self.c, i, j, u).saturating_sub(1).max(i);
        start + k.min(j.saturating_sub(1)).max(i) as i32
    }
}

/// The first index `q` in `i..=j` with `c[q] > u`, or `j + 1` when there is none, for `c`
/// non-decreasing on `i..=j`: the same as `i + c[i..=j].partition_point(|&x| x <= u)`.
///
/// The cumulative rate is close to linear over short spans, so a guess by linear
/// interpolation lands near the answer; a galloping search from there brackets it in a few
/// steps, and a binary search finishes inside the bracket.
pub(crate) fn first_above(c: &[f64], i: usize, j: usize, u: f64) -> usize {
    let count = |from: usize, to: usize| from + c[from..to].partition_point(|&x| x <= u);
    let (lo, hi) = (c[i], c[j]);
    let span = hi - lo;
    // Anything but a target strictly inside a rising, finite span: plain binary search.
    let inside = span > 0.0 && u >= lo && u < hi;
    if j <= i || !inside {
        return count(i, j + 1);
    }
    let guess = (i + (((u - lo) / span) * (j - i) as f64) as usize).clamp(i, j);
    let mut step = 1;
    if c[guess] <= u {
        // The answer is in (below, ..]: gallop right until a value above u.
        let mut below = guess;
        loop {
            let probe = below + step;
            if probe > j {
                return count(below + 1, j + 1);
            }
            if c[probe] > u {
                return count(below + 1, probe);
            }
            below = probe;
            step *= 2;
        }
    } else {
        // c[above] > u: the answer is at most `above`; gallop left until a value <= u.
        let mut above = guess;
        loop {
            if above < i + step {
                return count(i, above);
            }
            let probe = above - step;
            if c[probe] <= u {
                return count(probe + 1, above);
            }
            above = probe;
            step *= 2;
        }
    }
}

/// Shared, immutable inputs of every batch.
pub(crate) struct World {
    pub seed: u64,
    pub patients: usize,
    pub practices: Vec<Practice>,
    pub region_weights: Weighted,
    /// Practices of each region and their list-size weights.
    pub region_practices: Vec<(Vec<usize>, Weighted)>,
    pub ages: Weighted,
    pub sexes: Weighted,
    /// Mean of the age activity multiplier over the age distribution (to normalise it).
    pub activity_mean: f64,
    pub codes: Vec<Code>,
    pub background_codes: Weighted,
    /// Whether background events are generated ([`super::SynthConfig::background_events`]).
    pub background_events: bool,
    /// Per study code set: indices into `codes` and their weights.
    pub study_codes: Vec<(Vec<usize>, Weighted)>,
    pub background_rate: Cumulative,
    pub study_rate: Cumulative,
    pub event_start: i32,
    pub event_end: i32,
    pub data_end: i32,
    pub reference: chrono::NaiveDate,
    /// What the tables beyond the core three need (`None`: only the core three).
    pub extra: Option<super::extra::ExtraWorld>,
}

/// First day with events.
pub(crate) fn event_start() -> i32 {
    date_to_days(ymd(2018, 1, 1))
}

/// First day after the data (events, deaths and registration ends all come before it).
pub(crate) fn data_end() -> i32 {
    date_to_days(ymd(2022, 1, 1))
}

/// Relative activity (events) of a patient of `age`.
pub(crate) fn age_activity(age: u32) -> f64 {
    (0.35 + f64::from(age) / 45.0).min(3.0)
}

impl World {
    pub fn new(config: &SynthConfig) -> World {
        let mut rng = Pcg64::seed_from_u64(super::batch::mix(config.seed, u64::MAX));
        let age_w = age_weights();
        let total_w: f64 = age_w.iter().sum();
        let activity_mean = age_w
            .iter()
            .enumerate()
            .map(|(age, w)| w * age_activity(age as u32))
            .sum::<f64>()
            / total_w;

        // About one practice per 1,000 patients (at least 45, at most 8,000), shared out between
        // regions by population, with list sizes varying around their mean.
        let n_practices = (config.patients / 1000).clamp(45, 8000);
        let total_pop: f64 = REGIONS.iter().map(|(_, p, _)| p).sum();
        let mut practices = Vec::with_capacity(n_practices);
        let mut region_practices = Vec::with_capacity(REGIONS.len());
        let mut stp_number = 5;
        for (region, (_, pop, stps)) in REGIONS.iter().enumerate() {
            let count = ((n_practices as f64 * pop / total_pop).round() as usize).max(1);
            let mut members = Vec::with_capacity(count);
            let mut sizes = Vec::with_capacity(count);
            for k in 0..count {
                let stp = format!("E54{:06}", stp_number + (k as u32 % stps));
                members.push(practices.len());
                practices.push(Practice {
                    pseudo_id: practices.len() as i64 + 1,
                    region,
                    stp,
                });
                // List sizes: log-normal-ish spread, 0.4x to 2.5x the mean.
                sizes.push(0.4 + 2.1 * rng.random::<f64>() * rng.random::<f64>());
            }
            stp_number += stps;
            region_practices.push((members, Weighted::new(sizes)));
        }

        let mut codes: Vec<Code> = BACKGROUND_CODES
            .iter()
            .map(|c| Code {
                ctv3: Some(c.ctv3.to_string()),
                snomedct: Some(c.snomedct.to_string()),
                value: c.value,
            })
            .collect();
        // A background code that is also a study code would blur the study's signal: drop it.
        let is_study_code = |system: CodeSystem, code: &str| {
            config
                .study_codes
                .iter()
                .any(|s| s.system == system && s.codes.iter().any(|c| c == code))
        };
        let background_codes = Weighted::new(BACKGROUND_CODES.iter().map(|c| {
            if is_study_code(CodeSystem::Ctv3, c.ctv3)
                || is_study_code(CodeSystem::Snomedct, c.snomedct)
            {
                0.0
            } else {
                c.weight
            }
        }));
        let study_codes = config
            .study_codes
            .iter()
            .map(|set| {
                let mut members = Vec::with_capacity(set.codes.len());
                for code in &set.codes {
                    members.push(codes.len());
                    let (ctv3, snomedct) = match set.system {
                        CodeSystem::Snomedct => (None, Some(code.clone())),
                        _ => (Some(code.clone()), None),
                    };
                    codes.push(Code {
                        ctv3,
                        snomedct,
                        value: None,
                    });
                }
                // Earlier codes of a codelist are used more (Zipf-like), as in real data.
                let weights = Weighted::new((0..members.len()).map(|k| 1.0 / (k as f64 + 1.0)));
                (members, weights)
            })
            .collect();

        let (start, end) = (event_start(), data_end());
        let mut world = World {
            seed: config.seed,
            patients: config.patients,
            practices,
            region_weights: Weighted::new(REGIONS.iter().map(|(_, p, _)| *p)),
            region_practices,
            ages: Weighted::new(age_w),
            sexes: Weighted::new(SEXES.iter().map(|(_, w)| *w)),
            activity_mean,
            codes,
            background_codes,
            background_events: config.background_events,
            study_codes,
            background_rate: Cumulative {
                c: config
                    .background_shape
                    .scaled(config.background_per_month)
                    .cumulative(start, end),
            },
            study_rate: Cumulative {
                c: config.study_rate.cumulative(start, end),
            },
            event_start: start,
            event_end: end,
            data_end: end,
            reference: ymd(2020, 1, 1),
            extra: None,
        };
        world.extra = super::extra::ExtraWorld::new(config, &world);
        world
    }
}

#[cfg(test)]
mod tests {
    use super::first_above;
    use proptest::prelude::*;

    proptest! {
        /// The interpolating search agrees with a binary search over any non-decreasing
        /// cumulative (with flat stretches, steps and any window), for any target.
        #[test]
        fn first_above_is_partition_point(
            steps in prop::collection::vec(prop_oneof![Just(0.0), 0.0..3.0f64, 50.0..100.0f64], 1..200),
            window in (0usize..200, 0usize..200),
            t in -0.2..1.2f64,
        ) {
            let mut c = vec![0.0];
            for s in &steps {
                c.push(c.last().copied().unwrap_or(0.0) + s);
            }
            let n = c.len() - 1;
            let (i, j) = (window.0.min(n), window.1.min(n));
            let (i, j) = (i.min(j), i.max(j));
            let u = c[i] + t * (c[j] - c[i]);
            let want = i + c[i..=j].partition_point(|&x| x <= u);
            prop_assert_eq!(first_above(&c, i, j, u), want);
            // Exactly on a value too.
            let u = c[usize::midpoint(i, j)];
            let want = i + c[i..=j].partition_point(|&x| x <= u);
            prop_assert_eq!(first_above(&c, i, j, u), want);
        }
    }
}
