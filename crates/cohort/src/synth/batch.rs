//! One batch of patients with their registrations and events, as columns.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal, Poisson};
use rand_pcg::Pcg64;

use super::extra;
use super::population::{REGIONS, SEXES};
use super::rows::Rows;
use super::world::{age_activity, World};
use super::BATCH_SIZE;
use crate::tables::{date_to_days, names, TableFrames};

/// Move to another practice, per year registered.
const MOVE_RATE: f64 = 0.05;
/// Leave the data set (to a practice outside it, or abroad), per year registered.
const LEAVE_RATE: f64 = 0.004;
/// Share of moves that stay within the region.
const SAME_REGION: f64 = 0.8;

/// A well-mixed 64-bit seed for stream `index` of `seed` (SplitMix64 finaliser).
pub(crate) fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Default)]
pub(crate) struct Batch {
    // patients
    p_id: Vec<i64>,
    p_dob: Vec<i32>,
    p_sex: Vec<u8>,
    p_death: Vec<Option<i32>>,
    // practice_registrations
    r_id: Vec<i64>,
    r_start: Vec<i32>,
    r_end: Vec<Option<i32>>,
    r_practice: Vec<u32>,
    // clinical_events
    e_id: Vec<i64>,
    e_date: Vec<i32>,
    e_code: Vec<u32>,
    e_value: Vec<Option<f64>>,
    // the later columns of clinical_events (when asked for)
    e_lower: Vec<Option<f64>>,
    e_upper: Vec<Option<f64>>,
    e_comparator: Vec<Option<&'static str>>,
    // the other tables (when asked for)
    extra: Vec<Rows>,
}

impl Batch {
    /// Generates batch `index` (patients `index * BATCH_SIZE + 1 ..`), from its own RNG.
    pub fn generate(world: &World, index: usize) -> Batch {
        let mut rng = Pcg64::seed_from_u64(mix(world.seed, index as u64));
        // Background events draw from a stream of their own, so that a run without them
        // (a study that cannot see them) gets the same patients and study events.
        let mut background = Pcg64::seed_from_u64(mix(mix(world.seed, index as u64), u64::MAX));
        let first = index * BATCH_SIZE;
        let n = BATCH_SIZE.min(world.patients.saturating_sub(first));
        let mut batch = Batch {
            p_id: Vec::with_capacity(n),
            p_dob: Vec::with_capacity(n),
            p_sex: Vec::with_capacity(n),
            p_death: Vec::with_capacity(n),
            r_id: Vec::with_capacity(n * 3 / 2),
            r_start: Vec::with_capacity(n * 3 / 2),
            r_end: Vec::with_capacity(n * 3 / 2),
            r_practice: Vec::with_capacity(n * 3 / 2),
            e_id: Vec::with_capacity(n * 32),
            e_date: Vec::with_capacity(n * 32),
            e_code: Vec::with_capacity(n * 32),
            e_value: Vec::with_capacity(n * 32),
            ..Batch::default()
        };
        let mut scratch = Vec::new();
        for k in 0..n {
            batch.patient(
                world,
                (first + k + 1) as i64,
                &mut rng,
                &mut background,
                &mut scratch,
            );
        }
        if let Some(x) = &world.extra {
            if x.extended || x.study_values {
                let (lower, upper, comparator) =
                    extra::event_values(world, x, index, &batch.e_code, &mut batch.e_value);
                if x.extended {
                    (batch.e_lower, batch.e_upper, batch.e_comparator) = (lower, upper, comparator);
                }
            }
            if !x.tables.is_empty() {
                let female = SEXES
                    .iter()
                    .position(|(s, _)| *s == "F")
                    .map_or(u8::MAX, |i| i as u8);
                let patients: Vec<(i64, i32, bool, Option<i32>)> = (0..batch.p_id.len())
                    .map(|i| {
                        (
                            batch.p_id[i],
                            batch.p_dob[i],
                            batch.p_sex[i] == female,
                            batch.p_death[i],
                        )
                    })
                    .collect();
                let registrations: Vec<(i64, i32, Option<i32>)> = (0..batch.r_id.len())
                    .map(|i| (batch.r_id[i], batch.r_start[i], batch.r_end[i]))
                    .collect();
                batch.extra = extra::generate(world, x, index, &patients, &registrations).rows;
            }
        }
        batch
    }

    fn patient(
        &mut self,
        world: &World,
        id: i64,
        rng: &mut Pcg64,
        background: &mut Pcg64,
        scratch: &mut Vec<(i32, u32, Option<f64>)>,
    ) {
        let sex = world.sexes.sample(rng) as u8;
        let age = world.ages.sample(rng) as i32;
        // Born in one of the 12 months before the age was reached at the reference date.
        let months_back = age * 12 + rng.random_range(0..12);
        let ref_month = world.reference.year() * 12 + world.reference.month0() as i32;
        let birth_month = ref_month - months_back;
        let dob = NaiveDate::from_ymd_opt(
            birth_month.div_euclid(12),
            birth_month.rem_euclid(12) as u32 + 1,
            1,
        )
        .map_or(0, date_to_days);
        let death = death_day(world, dob, rng);
        self.p_id.push(id);
        self.p_dob.push(dob);
        self.p_sex.push(sex);
        self.p_death.push(death);

        let activity = age_activity(age.max(0) as u32) / world.activity_mean
            * (0.5 * standard_normal(rng) - 0.125).exp();

        // Registrations: join, then move or leave at random until the data ends or death.
        let alive_until = death.map_or(world.data_end, |d| d + 1);
        let mut start = join_day(world, dob, rng).min(alive_until - 1).max(dob);
        let mut region = world.region_weights.sample(rng);
        let mut practice = pick_practice(world, region, rng);
        loop {
            let wait_days = -(1.0 - rng.random::<f64>()).ln() / (MOVE_RATE + LEAVE_RATE) * 365.25;
            let next = start.saturating_add(wait_days.max(1.0) as i32);
            if next >= alive_until {
                // Registered to the end of the data, or until deregistered a few weeks after death.
                let end = death
                    .map(|d| (d + rng.random_range(0..42)).max(start + 1))
                    .filter(|&e| e < world.data_end);
                self.registration(id, start, end, practice);
                // Deregistered on the day of death: no event that day (the end is exclusive).
                let until = end.map_or(alive_until, |e| e.min(alive_until));
                self.events(
                    world,
                    id,
                    (start, until),
                    activity,
                    rng,
                    background,
                    scratch,
                );
                break;
            }
            self.registration(id, start, Some(next), practice);
            self.events(world, id, (start, next), activity, rng, background, scratch);
            if rng.random::<f64>() >= MOVE_RATE / (MOVE_RATE + LEAVE_RATE) {
                break; // left
            }
            let gap = if rng.random::<f64>() < 0.3 {
                rng.random_range(1..30)
            } else {
                0
            };
            start = next + gap;
            if start >= alive_until {
                break;
            }
            if rng.random::<f64>() >= SAME_REGION {
                region = world.region_weights.sample(rng);
            }
            let previous = practice;
            practice = pick_practice(world, region, rng);
            if practice == previous {
                practice = pick_practice(world, region, rng);
            }
        }
    }

    fn registration(&mut self, id: i64, start: i32, end: Option<i32>, practice: usize) {
        self.r_id.push(id);
        self.r_start.push(start);
        self.r_end.push(end);
        self.r_practice.push(practice as u32);
    }

    /// Events while registered in `[from, to)`, in date order: background events (from
    /// `background`, unless the world has none) and study events (from `rng`).
    #[allow(clippy::too_many_arguments)]
    fn events(
        &mut self,
        world: &World,
        id: i64,
        (from, to): (i32, i32),
        activity: f64,
        rng: &mut Pcg64,
        background: &mut Pcg64,
        scratch: &mut Vec<(i32, u32, Option<f64>)>,
    ) {
        let start = world.event_start;
        let to = to.min(world.event_end);
        if to <= from.max(start) {
            return;
        }
        scratch.clear();
        if world.background_events && !world.background_codes.is_empty() {
            let expected = activity * world.background_rate.between(from, to, start);
            for _ in 0..poisson(expected, background) {
                let day = world
                    .background_rate
                    .sample_day(from, to, start, background);
                let code = world.background_codes.sample(background);
                let value = world.codes[code].value.map(|(mean, sd)| {
                    let x = Normal::new(mean, sd).map_or(mean, |n| n.sample(background));
                    (x.max(0.0) * 10.0).round() / 10.0
                });
                scratch.push((day, code as u32, value));
            }
        }
        for (members, weights) in &world.study_codes {
            if members.is_empty() {
                continue;
            }
            let expected = activity * world.study_rate.between(from, to, start);
            for _ in 0..poisson(expected, rng) {
                let day = world.study_rate.sample_day(from, to, start, rng);
                let code = members[weights.sample(rng)];
                scratch.push((day, code as u32, None));
            }
        }
        scratch.sort_by_key(|(day, _, _)| *day);
        for &(day, code, value) in scratch.iter() {
            self.e_id.push(id);
            self.e_date.push(day);
            self.e_code.push(code);
            self.e_value.push(value);
        }
    }

    /// Every table of the batch, in output order: the core three (with their later columns
    /// when asked for), then the others in contract order.
    pub fn into_tables(self, world: &World) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
        let batches = [self];
        let core = frames(&batches, world)?;
        let [batch] = batches;
        let mut out = extended(core, &[&batch], world)?;
        for rows in batch.extra {
            out.push((rows.table, rows.into_frame()?));
        }
        Ok(out)
    }
}

/// The core tables in output order, with the later contract columns added when the world
/// asks for them (`practice_msoa_code`, `practice_systmone_go_live_date`, `lower_bound`,
/// `upper_bound`, `comparator`).
pub(crate) fn extended(
    core: TableFrames,
    batches: &[&Batch],
    world: &World,
) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    let TableFrames {
        patients,
        mut practice_registrations,
        mut clinical_events,
    } = core;
    if let Some(x) = world.extra.as_ref().filter(|x| x.extended) {
        let practices: Vec<u32> = batches
            .iter()
            .flat_map(|b| b.r_practice.iter().copied())
            .collect();
        let msoas = StringChunked::from_iter_values(
            PlSmallStr::EMPTY,
            x.practice_msoa.iter().map(String::as_str),
        );
        practice_registrations.with_column(gather(
            "practice_msoa_code",
            msoas,
            practices.clone(),
        )?)?;
        practice_registrations.with_column(
            Int32Chunked::from_iter_options(
                "practice_systmone_go_live_date".into(),
                practices.iter().map(|&k| x.practice_go_live[k as usize]),
            )
            .into_date()
            .into_column(),
        )?;
        let floats = |name: &str, f: &dyn Fn(&Batch) -> &[Option<f64>]| {
            Float64Chunked::from_iter_options(
                name.into(),
                batches.iter().flat_map(|b| f(b).iter().copied()),
            )
            .into_column()
        };
        clinical_events.with_column(floats("lower_bound", &|b| &b.e_lower))?;
        clinical_events.with_column(floats("upper_bound", &|b| &b.e_upper))?;
        clinical_events.with_column(
            StringChunked::from_iter_options(
                "comparator".into(),
                batches.iter().flat_map(|b| b.e_comparator.iter().copied()),
            )
            .into_column(),
        )?;
    }
    Ok(vec![
        (names::PATIENTS, patients),
        (names::PRACTICE_REGISTRATIONS, practice_registrations),
        (names::CLINICAL_EVENTS, clinical_events),
    ])
}

/// Every table of `batches`, in output order, each a single chunk.
pub(crate) fn all_frames(
    batches: Vec<Batch>,
    world: &World,
) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    let core = frames(&batches, world)?;
    let refs: Vec<&Batch> = batches.iter().collect();
    let mut out = extended(core, &refs, world)?;
    let tables = world
        .extra
        .as_ref()
        .map(|x| x.tables.clone())
        .unwrap_or_default();
    let mut parts: Vec<Vec<DataFrame>> = vec![Vec::new(); tables.len()];
    for b in batches {
        for (k, rows) in b.extra.into_iter().enumerate() {
            parts[k].push(rows.into_frame()?);
        }
    }
    for (table, frames) in tables.into_iter().zip(parts) {
        let mut frames = frames.into_iter();
        let mut df = match frames.next() {
            Some(first) => first,
            None => Rows::new(table).into_frame()?,
        };
        for f in frames {
            df.vstack_mut(&f)?;
        }
        df.rechunk_mut();
        out.push((table, df));
    }
    Ok(out)
}

/// `batches`, in order, as the three contract tables, each column in one chunk. Columns are
/// built in parallel; codes, regions, STPs and sexes are gathered from small dictionaries
/// (string views into shared buffers) rather than copied string by string.
pub(crate) fn frames(batches: &[Batch], world: &World) -> PolarsResult<TableFrames> {
    let ((patients, practice_registrations), clinical_events) = rayon::join(
        || {
            rayon::join(
                || patients_frame(batches),
                || registrations_frame(batches, world),
            )
        },
        || events_frame(batches, world),
    );
    Ok(TableFrames {
        patients: patients?,
        practice_registrations: practice_registrations?,
        clinical_events: clinical_events?,
    })
}

/// The values of one column of every batch, in order, in one vector.
fn concat<T: Copy>(batches: &[Batch], column: impl Fn(&Batch) -> &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(batches.iter().map(|b| column(b).len()).sum());
    for b in batches {
        out.extend_from_slice(column(b));
    }
    out
}

fn id_column(name: &str, v: Vec<i64>) -> Column {
    Int64Chunked::from_vec(name.into(), v).into_column()
}

fn date_column(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_date()
        .into_column()
}

fn opt_date_column(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_date()
        .into_column()
}

/// `dictionary[k]` for each index `k` (all in range), as a string column.
fn gather(name: &str, dictionary: StringChunked, indices: Vec<IdxSize>) -> PolarsResult<Column> {
    let indices = IdxCa::from_vec(PlSmallStr::EMPTY, indices);
    Ok(dictionary
        .take(&indices)?
        .with_name(name.into())
        .into_column())
}

fn patients_frame(batches: &[Batch]) -> PolarsResult<DataFrame> {
    let ids = concat(batches, |b| &b.p_id);
    let height = ids.len();
    let sexes = StringChunked::from_iter_values(PlSmallStr::EMPTY, SEXES.iter().map(|s| s.0));
    DataFrame::new(
        height,
        vec![
            id_column(names::PATIENT_ID, ids),
            date_column(names::DATE_OF_BIRTH, concat(batches, |b| &b.p_dob)),
            gather(
                names::SEX,
                sexes,
                concat(batches, |b| &b.p_sex)
                    .into_iter()
                    .map(IdxSize::from)
                    .collect(),
            )?,
            opt_date_column(names::DATE_OF_DEATH, concat(batches, |b| &b.p_death)),
        ],
    )
}

fn registrations_frame(batches: &[Batch], world: &World) -> PolarsResult<DataFrame> {
    let ids = concat(batches, |b| &b.r_id);
    let height = ids.len();
    let practices = concat(batches, |b| &b.r_practice);
    let regions = StringChunked::from_iter_values(
        PlSmallStr::EMPTY,
        world.practices.iter().map(|p| REGIONS[p.region].0),
    );
    let stps = StringChunked::from_iter_values(
        PlSmallStr::EMPTY,
        world.practices.iter().map(|p| p.stp.as_str()),
    );
    DataFrame::new(
        height,
        vec![
            id_column(names::PATIENT_ID, ids),
            date_column(names::START_DATE, concat(batches, |b| &b.r_start)),
            opt_date_column(names::END_DATE, concat(batches, |b| &b.r_end)),
            id_column(
                names::PRACTICE_PSEUDO_ID,
                practices
                    .iter()
                    .map(|&k| world.practices[k as usize].pseudo_id)
                    .collect(),
            ),
            gather(
                names::PRACTICE_NUTS1_REGION_NAME,
                regions,
                practices.clone(),
            )?,
            gather(names::PRACTICE_STP, stps, practices)?,
        ],
    )
}

fn events_frame(batches: &[Batch], world: &World) -> PolarsResult<DataFrame> {
    let codes = concat(batches, |b| &b.e_code);
    let height = codes.len();
    let ctv3 = StringChunked::from_iter_options(
        PlSmallStr::EMPTY,
        world.codes.iter().map(|c| c.ctv3.as_deref()),
    );
    let snomedct = StringChunked::from_iter_options(
        PlSmallStr::EMPTY,
        world.codes.iter().map(|c| c.snomedct.as_deref()),
    );
    let ((ids, dates), (ctv3, (snomedct, values))) = rayon::join(
        || (concat(batches, |b| &b.e_id), concat(batches, |b| &b.e_date)),
        || {
            rayon::join(
                || gather(names::CTV3_CODE, ctv3, codes.clone()),
                || {
                    rayon::join(
                        || gather(names::SNOMEDCT_CODE, snomedct, codes.clone()),
                        || {
                            Float64Chunked::from_iter_options(
                                names::NUMERIC_VALUE.into(),
                                batches.iter().flat_map(|b| b.e_value.iter().copied()),
                            )
                            .into_column()
                        },
                    )
                },
            )
        },
    );
    DataFrame::new(
        height,
        vec![
            id_column(names::PATIENT_ID, ids),
            date_column(names::DATE, dates),
            ctv3?,
            snomedct?,
            values,
        ],
    )
}

/// The day a patient first registers: at birth for those born since 2000; otherwise most
/// joined long ago and some joined recently.
fn join_day(world: &World, dob: i32, rng: &mut Pcg64) -> i32 {
    let after_birth = dob + rng.random_range(0..60);
    if dob >= date_to_days(super::profile::ymd(2000, 1, 1)) {
        return after_birth;
    }
    let (from, to) = if rng.random::<f64>() < 0.75 {
        (1985, 2010)
    } else {
        (2010, 2022)
    };
    let year = f64::from(from) + rng.random::<f64>() * f64::from(to - from);
    let day = date_to_days(super::profile::ymd(1970, 1, 1)) + ((year - 1970.0) * 365.25) as i32;
    after_birth.max(day).min(world.data_end - 1)
}

/// Death from an age-dependent (Gompertz) hazard over 2015-2021, with excess deaths in 2020.
fn death_day(world: &World, dob: i32, rng: &mut Pcg64) -> Option<i32> {
    for year in 2015..=2021 {
        let year_start = date_to_days(super::profile::ymd(year, 1, 1));
        let year_end = date_to_days(super::profile::ymd(year + 1, 1, 1)).min(world.data_end);
        if year_end <= dob {
            continue;
        }
        let age = f64::from(year_start - dob) / 365.25;
        let excess = if year == 2020 { 1.15 } else { 1.0 };
        let hazard = ((-10.3 + 0.088 * age.max(0.0)).exp() * excess).min(0.6);
        if rng.random::<f64>() < hazard {
            let from = year_start.max(dob);
            return Some(rng.random_range(from..year_end));
        }
    }
    None
}

fn pick_practice(world: &World, region: usize, rng: &mut Pcg64) -> usize {
    let (members, weights) = &world.region_practices[region];
    members[weights.sample(rng)]
}

pub(crate) fn poisson(mean: f64, rng: &mut Pcg64) -> u64 {
    if mean <= 0.0 || !mean.is_finite() {
        return 0;
    }
    Poisson::new(mean).map_or(0, |p| p.sample(rng) as u64)
}

fn standard_normal(rng: &mut Pcg64) -> f64 {
    rand_distr::StandardNormal.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::CodeSystem;
    use crate::synth::{CodeSet, SynthConfig};

    /// One batch's tables built value by value: the simple reference for [`frames`].
    fn naive_frames(b: &Batch, world: &World) -> TableFrames {
        let date = |name: &str, v: &[i32]| {
            Int32Chunked::from_slice(name.into(), v)
                .into_date()
                .into_column()
        };
        let opt_date = |name: &str, v: &[Option<i32>]| {
            Int32Chunked::from_iter_options(name.into(), v.iter().copied())
                .into_date()
                .into_column()
        };
        let strings = |name: &str, v: Vec<Option<&str>>| {
            StringChunked::from_iter_options(name.into(), v.into_iter()).into_column()
        };
        let practice = |k: &u32| &world.practices[*k as usize];
        let code = |k: &u32| &world.codes[*k as usize];
        let patients = DataFrame::new_infer_height(vec![
            Column::new(names::PATIENT_ID.into(), &b.p_id),
            date(names::DATE_OF_BIRTH, &b.p_dob),
            strings(
                names::SEX,
                b.p_sex.iter().map(|&s| Some(SEXES[s as usize].0)).collect(),
            ),
            opt_date(names::DATE_OF_DEATH, &b.p_death),
        ])
        .unwrap();
        let practice_registrations = DataFrame::new_infer_height(vec![
            Column::new(names::PATIENT_ID.into(), &b.r_id),
            date(names::START_DATE, &b.r_start),
            opt_date(names::END_DATE, &b.r_end),
            Column::new(
                names::PRACTICE_PSEUDO_ID.into(),
                b.r_practice
                    .iter()
                    .map(|k| practice(k).pseudo_id)
                    .collect::<Vec<i64>>(),
            ),
            strings(
                names::PRACTICE_NUTS1_REGION_NAME,
                b.r_practice
                    .iter()
                    .map(|k| Some(REGIONS[practice(k).region].0))
                    .collect(),
            ),
            strings(
                names::PRACTICE_STP,
                b.r_practice
                    .iter()
                    .map(|k| Some(practice(k).stp.as_str()))
                    .collect(),
            ),
        ])
        .unwrap();
        let clinical_events = DataFrame::new_infer_height(vec![
            Column::new(names::PATIENT_ID.into(), &b.e_id),
            date(names::DATE, &b.e_date),
            strings(
                names::CTV3_CODE,
                b.e_code.iter().map(|k| code(k).ctv3.as_deref()).collect(),
            ),
            strings(
                names::SNOMEDCT_CODE,
                b.e_code
                    .iter()
                    .map(|k| code(k).snomedct.as_deref())
                    .collect(),
            ),
            Float64Chunked::from_iter_options(
                names::NUMERIC_VALUE.into(),
                b.e_value.iter().copied(),
            )
            .into_column(),
        ])
        .unwrap();
        TableFrames {
            patients,
            practice_registrations,
            clinical_events,
        }
    }

    /// The batches' reference tables, stacked.
    fn stacked(batches: Vec<Batch>, world: &World) -> TableFrames {
        let mut out = TableFrames::empty();
        for b in &batches {
            let f = naive_frames(b, world);
            out.patients.vstack_mut(&f.patients).unwrap();
            out.practice_registrations
                .vstack_mut(&f.practice_registrations)
                .unwrap();
            out.clinical_events.vstack_mut(&f.clinical_events).unwrap();
        }
        out
    }

    #[test]
    fn frames_of_several_batches_equal_the_stacked_batches_in_one_chunk() {
        let codes = vec![CodeSet {
            system: CodeSystem::Snomedct,
            codes: vec!["431314004".into(), "1326191000000103".into()],
        }];
        let world = World::new(&SynthConfig::new(BATCH_SIZE + 40, 5, codes));
        let generate = || {
            (0..2)
                .map(|i| Batch::generate(&world, i))
                .collect::<Vec<_>>()
        };
        let got = frames(&generate(), &world).unwrap();
        let want = stacked(generate(), &world);
        for (table, g, w) in [
            ("patients", &got.patients, &want.patients),
            (
                "practice_registrations",
                &got.practice_registrations,
                &want.practice_registrations,
            ),
            (
                "clinical_events",
                &got.clinical_events,
                &want.clinical_events,
            ),
        ] {
            assert_eq!(g.schema(), w.schema(), "{table}");
            assert!(g.equals_missing(w), "{table}:\n{g}\n{w}");
            assert!(g.columns().iter().all(|c| c.n_chunks() == 1), "{table}");
        }
        assert_eq!(got.patients.height(), BATCH_SIZE + 40);
        // Both systems' codes and the background codes' values are there.
        let events = &got.clinical_events;
        assert!(events.column(names::SNOMEDCT_CODE).unwrap().null_count() < events.height());
        assert!(events.column(names::CTV3_CODE).unwrap().null_count() > 0);
        assert!(events.column(names::NUMERIC_VALUE).unwrap().null_count() < events.height());
    }
}
