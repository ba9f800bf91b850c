//! Expectations dummy data (`--dummy-data=expectations`): cohortextractor's expectations
//! framework (`reference/cohortextractor.md` §2), with the two fixes of
//! `spec/data-sources.md`: runs are seeded, and `categorised_as` / `satisfying` columns are
//! computed from the sampled columns they name instead of being sampled.
//!
//! Every other column — hidden helpers included — is sampled independently from its
//! `return_expectations` deep-merged over the study's `default_expectations`. The population
//! is not applied: a file has exactly N rows. Columns are `patient_id` (unique random ids in
//! `[0, 10N)`, rows sorted by it) then the output variables in definition order.

mod spec;

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution as _, Exp1, Normal, Poisson};
use rand_pcg::Pcg64;
use serde_yaml::Value as Yaml;

pub use spec::{deep_merge, Distribution, Expectation, Rate};

use crate::expr::Value;
use crate::lang::{ColumnType, DateFormat, Derived, StudyDefinition, Variable};
use crate::synth::mix;
use crate::tables::{date_to_days, names};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 1234;

/// A variable whose expectations cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}: variable `{variable}`: {message}", file.display())]
pub struct ExpectationsError {
    pub file: PathBuf,
    pub line: usize,
    pub variable: String,
    pub message: String,
}

/// One generated column.
#[derive(Debug, Clone)]
enum Col {
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Str(Vec<String>),
}

impl Col {
    fn value(&self, row: usize) -> Value {
        match self {
            Col::Bool(v) => Value::Bool(v[row]),
            Col::Int(v) => Value::Int(v[row]),
            Col::Float(v) => Value::Float(v[row]),
            Col::Str(v) => Value::Str(v[row].clone()),
        }
    }

    fn into_column(self, name: &str) -> Column {
        match self {
            Col::Bool(v) => Column::new(name.into(), v),
            Col::Int(v) => Column::new(name.into(), v),
            Col::Float(v) => Column::new(name.into(), v),
            Col::Str(v) => Column::new(name.into(), v),
        }
    }
}

/// Generates the expectations dummy frame of `study` for `index_date`: `population` rows,
/// reproducible from `seed` (a different index date draws differently).
pub fn generate(
    study: &StudyDefinition,
    index_date: NaiveDate,
    population: usize,
    seed: u64,
) -> Result<DataFrame, ExpectationsError> {
    let today = chrono::Utc::now().date_naive();
    let date_seed = mix(seed, date_to_days(index_date) as u64);
    let defaults = study.default_expectations.clone().unwrap_or(Yaml::Null);
    let err = |v: &Variable, message: String| ExpectationsError {
        file: study.path.clone(),
        line: v.line,
        variable: v.name.clone(),
        message,
    };

    // A study that reads a file of patients (`with_value_from_file`, `which_exist_in_file`)
    // has that file's patients as its dummy population.
    let files = FileValues::read(study).map_err(|m| err(&study.population, m))?;
    let population = files.ids.as_ref().map_or(population, Vec::len);
    let mut cols: Vec<Option<Col>> = vec![None; study.variables.len()];
    for (i, v) in study.variables.iter().enumerate() {
        if is_derived(&v.derived) {
            continue;
        }
        let merged = match &v.return_expectations {
            Some(own) => deep_merge(&defaults, own),
            None => defaults.clone(),
        };
        let e = spec::parse(&merged, index_date, today).map_err(|m| err(v, m))?;
        let mut rng = Pcg64::seed_from_u64(mix(date_seed, i as u64));
        cols[i] =
            Some(sample(study, v, &e, index_date, population, &mut rng).map_err(|m| err(v, m))?);
    }

    // Computed columns, each once everything it names is known.
    let position = |name: &str| study.variables.iter().position(|v| v.name == name);
    loop {
        let mut progressed = false;
        let mut pending = false;
        for (i, v) in study.variables.iter().enumerate() {
            if cols[i].is_some() {
                continue;
            }
            let deps: Vec<usize> = dependencies(&v.derived)
                .into_iter()
                .filter_map(|n| position(&n))
                .collect();
            if deps.iter().any(|&j| cols[j].is_none()) {
                pending = true;
                continue;
            }
            let lookup = |row: usize| {
                let cols = &cols;
                move |name: &str| -> Value {
                    position(name)
                        .and_then(|j| cols[j].as_ref())
                        .map_or(Value::Int(0), |c| c.value(row))
                }
            };
            let col = compute(study, v, population, &lookup, &files).map_err(|m| err(v, m))?;
            cols[i] = Some(col);
            progressed = true;
        }
        if !pending {
            break;
        }
        if !progressed {
            let v = study
                .variables
                .iter()
                .zip(&cols)
                .find(|(_, c)| c.is_none())
                .map_or(&study.population, |(v, _)| v);
            return Err(err(v, "depends on itself".into()));
        }
    }

    let mut rng = Pcg64::seed_from_u64(mix(date_seed, u64::MAX));
    let ids = match &files.ids {
        Some(ids) => ids.clone(),
        None => unique_ids(population, &mut rng),
    };
    // Rows are generated in id-draw order; sort them by patient_id.
    let mut order: Vec<usize> = (0..population).collect();
    order.sort_by_key(|&r| ids[r]);
    let mut columns = vec![Column::new(
        names::PATIENT_ID.into(),
        order.iter().map(|&r| ids[r]).collect::<Vec<i64>>(),
    )];
    for (v, col) in study.variables.iter().zip(cols) {
        if v.hidden {
            continue;
        }
        let col = col.unwrap_or(Col::Bool(vec![false; population]));
        columns.push(reorder(col, &order).into_column(&v.name));
    }
    DataFrame::new(population, columns).map_err(|e| err(&study.population, e.to_string()))
}

/// Whether a column is computed from others (or a file) rather than sampled.
fn is_derived(d: &Derived) -> bool {
    !matches!(d, Derived::Sampled)
}

fn reorder(col: Col, order: &[usize]) -> Col {
    match col {
        Col::Bool(v) => Col::Bool(order.iter().map(|&r| v[r]).collect()),
        Col::Int(v) => Col::Int(order.iter().map(|&r| v[r]).collect()),
        Col::Float(v) => Col::Float(order.iter().map(|&r| v[r]).collect()),
        Col::Str(v) => Col::Str(order.iter().map(|&r| v[r].clone()).collect()),
    }
}

/// Samples one column from its expectations.
fn sample(
    study: &StudyDefinition,
    v: &Variable,
    e: &Expectation,
    index_date: NaiveDate,
    n: usize,
    rng: &mut Pcg64,
) -> Result<Col, String> {
    let present = presence(e, n, rng);
    Ok(match v.column_type {
        ColumnType::Bool => Col::Bool(present),
        ColumnType::Int if e.int.is_none() && e.categories.is_some() => {
            // Integer categories (`category: {ratios: {"100": 0.1, …}}`, as IMD and
            // rural/urban classes are written).
            let labels = sample_labels(e, &present, rng);
            Col::Int(
                labels
                    .iter()
                    .map(|l| {
                        if l.is_empty() {
                            Ok(0)
                        } else {
                            l.parse::<i64>()
                                .map_err(|_| format!("category `{l}` is not an integer"))
                        }
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        ColumnType::Int => {
            let dist = e
                .int
                .ok_or("an int column needs an `int: {distribution: …}` expectation".to_string())?;
            let mut sampler = Sampler::new(dist)?;
            Col::Int(
                present
                    .iter()
                    .map(|&p| {
                        let x = sampler.int(rng);
                        if p {
                            x
                        } else {
                            0
                        }
                    })
                    .collect(),
            )
        }
        ColumnType::Float => {
            let dist = e.float.ok_or(
                "a float column needs a `float: {distribution: normal, …}` expectation".to_string(),
            )?;
            let mut sampler = Sampler::new(dist)?;
            Col::Float(
                present
                    .iter()
                    .map(|&p| {
                        let x = sampler.float(rng);
                        if p {
                            x
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            )
        }
        ColumnType::Str => {
            let ratios = e.categories.as_ref().ok_or(
                "a string column needs a `category: {ratios: {…}}` expectation".to_string(),
            )?;
            check_categories(study, v, ratios)?;
            Col::Str(sample_labels(e, &present, rng))
        }
        ColumnType::Date => {
            let format = v.date_format.unwrap_or(DateFormat::YearMonthDay);
            let (lo, hi) = window_bounds(v, index_date, chrono::Utc::now().date_naive())?;
            let span = (e.latest - e.earliest).num_days().max(0) as u64;
            Col::Str(
                present
                    .iter()
                    .map(|&p| {
                        let back = match e.rate {
                            Rate::ExponentialIncrease => exponential_days(span, rng),
                            Rate::Uniform | Rate::Universal => {
                                (rng.random::<f64>() * span as f64) as u64
                            }
                        };
                        let date = e
                            .latest
                            .checked_sub_days(Days::new(back))
                            .unwrap_or(e.latest);
                        let inside = lo.is_none_or(|l| date >= l) && hi.is_none_or(|h| date <= h);
                        if p && inside {
                            format.format(date)
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
            )
        }
    })
}

/// Which rows have a value: all when universal, else all but exactly
/// `floor((1 - incidence) * n)` rows chosen at random.
fn presence(e: &Expectation, n: usize, rng: &mut Pcg64) -> Vec<bool> {
    let mut present = vec![true; n];
    if e.rate == Rate::Universal {
        return present;
    }
    let empty = (((1.0 - e.incidence) * n as f64) as usize).min(n);
    // Partial Fisher-Yates: the first `empty` slots of a random permutation.
    let mut idx: Vec<usize> = (0..n).collect();
    for k in 0..empty {
        let j = rng.random_range(k..n);
        idx.swap(k, j);
        present[idx[k]] = false;
    }
    present
}

/// Days back from `latest`: `floor(Exp(scale 0.1) * span)`, redrawn while beyond the span.
fn exponential_days(span: u64, rng: &mut Pcg64) -> u64 {
    if span == 0 {
        return 0;
    }
    loop {
        let x: f64 = Exp1.sample(rng);
        let days = (x * 0.1 * span as f64) as u64;
        if days <= span {
            return days;
        }
    }
}

/// A `returning: category` column's labels must be categories of its codelist.
fn check_categories(
    study: &StudyDefinition,
    v: &Variable,
    ratios: &[(String, f64)],
) -> Result<(), String> {
    if let Some(codelist) = &v.codelist {
        if let Some(cl) = study.codelists.get(codelist).filter(|c| c.has_categories) {
            let known: HashSet<&str> = cl.codes.values().flatten().map(String::as_str).collect();
            if let Some((bad, _)) = ratios.iter().find(|(l, _)| !known.contains(l.as_str())) {
                return Err(format!(
                    "category.ratios: `{bad}` is not a category of codelist `{codelist}`"
                ));
            }
        }
    }
    Ok(())
}

/// The inclusive bounds of a variable's static window for an index date.
fn window_bounds(
    v: &Variable,
    index_date: NaiveDate,
    today: NaiveDate,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), String> {
    let Some((lo, hi)) = &v.window else {
        return Ok((None, None));
    };
    let eval = |e: &Option<crate::lang::dates::DateExpr>| -> Result<Option<NaiveDate>, String> {
        e.as_ref()
            .map(|e| e.eval(Some(index_date), today).map_err(|e| e.to_string()))
            .transpose()
    };
    Ok((eval(lo)?, eval(hi)?))
}

/// Draws ints or floats from a [`Distribution`].
struct Sampler {
    dist: Distribution,
    normal: Option<Normal<f64>>,
    poisson: Option<Poisson<f64>>,
    ages: Vec<f64>,
}

impl Sampler {
    fn new(dist: Distribution) -> Result<Sampler, String> {
        let mut s = Sampler {
            dist,
            normal: None,
            poisson: None,
            ages: Vec::new(),
        };
        match dist {
            Distribution::Normal { mean, stddev } => {
                s.normal = Some(Normal::new(mean, stddev).map_err(|e| e.to_string())?);
            }
            Distribution::Poisson { mean } if mean > 0.0 => {
                s.poisson = Some(Poisson::new(mean).map_err(|e| e.to_string())?);
            }
            Distribution::Poisson { .. } => {}
            Distribution::PopulationAges => s.ages = population_age_cumulative(),
        }
        Ok(s)
    }

    fn int(&mut self, rng: &mut Pcg64) -> i64 {
        match self.dist {
            // Truncated toward zero, as numpy's astype(int).
            Distribution::Normal { .. } => self.float(rng) as i64,
            Distribution::Poisson { .. } => self.poisson.map_or(0, |p| p.sample(rng) as i64),
            Distribution::PopulationAges => {
                let u = rng.random::<f64>() * self.ages.last().copied().unwrap_or(1.0);
                self.ages
                    .partition_point(|&c| c <= u)
                    .min(self.ages.len() - 1) as i64
            }
        }
    }

    fn float(&mut self, rng: &mut Pcg64) -> f64 {
        match (&self.normal, self.dist) {
            (Some(n), _) => n.sample(rng),
            (None, Distribution::Poisson { .. }) => self.int(rng) as f64,
            _ => 0.0,
        }
    }
}

/// cohortextractor's `generate_ages`: ages 0..110, `p(age) = band / total / 5` (ages 100-109
/// all use the 100+ band), the excess over 1 taken from the first most likely age (50).
pub(crate) fn population_age_probabilities() -> Vec<f64> {
    use crate::synth::AGE_BANDS_2018;
    let total: f64 = AGE_BANDS_2018.iter().map(|(_, c)| f64::from(*c)).sum();
    let mut p: Vec<f64> = (0..110u32)
        .map(|age| {
            let band = AGE_BANDS_2018
                .iter()
                .rev()
                .find(|(start, _)| age >= *start)
                .map_or(0, |(_, c)| *c);
            f64::from(band) / total / 5.0
        })
        .collect();
    let excess = p.iter().sum::<f64>() - 1.0;
    let max = p.iter().copied().fold(f64::MIN, f64::max);
    if let Some(first) = p.iter().position(|&x| x == max) {
        p[first] -= excess;
    }
    p
}

fn population_age_cumulative() -> Vec<f64> {
    population_age_probabilities()
        .iter()
        .scan(0.0, |t, p| {
            *t += p;
            Some(*t)
        })
        .collect()
}

/// `n` distinct ids in `[0, 10n)` (Floyd's algorithm), in draw order.
fn unique_ids(n: usize, rng: &mut Pcg64) -> Vec<i64> {
    let range = (n as u64).saturating_mul(10).max(1);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    for j in range - n as u64..range {
        let t = rng.random_range(0..=j);
        let pick = if seen.insert(t) {
            t
        } else {
            seen.insert(j);
            j
        };
        out.push(pick as i64);
    }
    out
}

/// Draws one `category.ratios` label per present row (`""` for absent rows).
fn sample_labels(e: &Expectation, present: &[bool], rng: &mut Pcg64) -> Vec<String> {
    let ratios = e.categories.as_deref().unwrap_or(&[]);
    if ratios.is_empty() {
        return vec![String::new(); present.len()];
    }
    let labels: Vec<&str> = ratios.iter().map(|(l, _)| l.as_str()).collect();
    let cumulative: Vec<f64> = ratios
        .iter()
        .scan(0.0, |t, (_, p)| {
            *t += p;
            Some(*t)
        })
        .collect();
    present
        .iter()
        .map(|&p| {
            let u = rng.random::<f64>() * cumulative.last().copied().unwrap_or(1.0);
            let k = cumulative
                .partition_point(|&c| c <= u)
                .min(labels.len() - 1);
            if p {
                labels[k].to_string()
            } else {
                String::new()
            }
        })
        .collect()
}

/// The variables a computed column is computed from.
fn dependencies(d: &Derived) -> Vec<String> {
    match d {
        Derived::Categorised { cases, .. } => {
            let mut out: Vec<String> = Vec::new();
            for (_, e) in cases {
                for n in e.names() {
                    if !out.iter().any(|o| o == n) {
                        out.push(n.to_string());
                    }
                }
            }
            out
        }
        Derived::Satisfying(e) => e.names().into_iter().map(str::to_string).collect(),
        Derived::MinMax { sources, .. } => sources.clone(),
        Derived::DateOf(source) => vec![source.clone()],
        Derived::Sampled | Derived::Fixed(_) | Derived::FromFile { .. } => Vec::new(),
    }
}

/// The values of a study's files, for the variables that read them.
struct FileValues {
    /// The first file's patients (ascending), when the study reads one.
    ids: Option<Vec<i64>>,
    /// (file, column) -> value per patient id.
    values: std::collections::HashMap<(String, String), std::collections::HashMap<i64, String>>,
}

impl FileValues {
    fn read(study: &StudyDefinition) -> Result<FileValues, String> {
        let mut out = FileValues {
            ids: None,
            values: std::collections::HashMap::new(),
        };
        for v in study
            .variables
            .iter()
            .chain(std::iter::once(&study.population))
        {
            let Derived::FromFile { path, column } = &v.derived else {
                continue;
            };
            let file = study.project_dir.join(path);
            let mut reader =
                ::csv::Reader::from_path(&file).map_err(|e| format!("{path}: cannot read: {e}"))?;
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| format!("{path}: {e}"))?
                .iter()
                .map(str::to_string)
                .collect();
            let at = |c: &str| header.iter().position(|h| h == c);
            let pid_at = at("patient_id").ok_or(format!("{path}: no column `patient_id`"))?;
            let col_at = column.as_deref().and_then(at);
            let mut ids = Vec::new();
            let mut values = std::collections::HashMap::new();
            for record in reader.records() {
                let record = record.map_err(|e| format!("{path}: {e}"))?;
                let pid: i64 = record
                    .get(pid_at)
                    .unwrap_or("")
                    .trim()
                    .parse()
                    .map_err(|_| format!("{path}: a patient_id is not an integer"))?;
                ids.push(pid);
                if let Some(c) = col_at {
                    values.insert(pid, record.get(c).unwrap_or("").to_string());
                }
            }
            ids.sort_unstable();
            ids.dedup();
            out.ids.get_or_insert(ids);
            if let Some(c) = column {
                out.values.insert((path.clone(), c.clone()), values);
            }
        }
        Ok(out)
    }
}

/// Evaluates a computed column: from the columns it names, a constant, or a file.
fn compute<'a, F, G>(
    study: &StudyDefinition,
    v: &Variable,
    n: usize,
    lookup: &'a F,
    files: &FileValues,
) -> Result<Col, String>
where
    F: Fn(usize) -> G,
    G: Fn(&str) -> Value + 'a,
{
    let text_col = |texts: Vec<String>| -> Result<Col, String> {
        Ok(match v.column_type {
            ColumnType::Bool => Col::Bool(texts.iter().map(|t| t == "1" || t == "true").collect()),
            ColumnType::Int => Col::Int(texts.iter().map(|t| t.parse().unwrap_or(0)).collect()),
            ColumnType::Float => {
                Col::Float(texts.iter().map(|t| t.parse().unwrap_or(0.0)).collect())
            }
            ColumnType::Str | ColumnType::Date => Col::Str(texts),
        })
    };
    match &v.derived {
        Derived::Fixed(text) => text_col(vec![text.clone(); n]),
        Derived::FromFile { path, column } => {
            let ids = files.ids.clone().unwrap_or_default();
            match column {
                None => Ok(Col::Bool(vec![true; n])),
                Some(c) => {
                    let values = files.values.get(&(path.clone(), c.clone()));
                    text_col(
                        ids.iter()
                            .map(|id| values.and_then(|m| m.get(id)).cloned().unwrap_or_default())
                            .collect(),
                    )
                }
            }
        }
        Derived::DateOf(source) => {
            // Empty exactly where the source is missing; otherwise a date in the window.
            let format = v.date_format.unwrap_or(DateFormat::YearMonthDay);
            let src = study.variable(source);
            Ok(Col::Str(
                (0..n)
                    .map(|r| {
                        let value = lookup(r)(source);
                        if !value.truthy() {
                            return String::new();
                        }
                        let d = match &src.and_then(|s| s.window.clone()) {
                            Some((Some(lo), _)) => {
                                lo.eval(None, chrono::Utc::now().date_naive()).ok()
                            }
                            _ => None,
                        };
                        d.map_or_else(String::new, |d| format.format(d))
                    })
                    .collect(),
            ))
        }
        Derived::MinMax { sources, max } => {
            let mut out = Vec::with_capacity(n);
            for r in 0..n {
                let get = lookup(r);
                let mut best: Option<Value> = None;
                for s in sources {
                    let x = get(s);
                    if !x.truthy() {
                        continue;
                    }
                    let better = match &best {
                        None => true,
                        Some(b) => {
                            let ord = compare_values(&x, b);
                            if *max {
                                ord.is_gt()
                            } else {
                                ord.is_lt()
                            }
                        }
                    };
                    if better {
                        best = Some(x);
                    }
                }
                out.push(best);
            }
            Ok(match v.column_type {
                ColumnType::Int => Col::Int(
                    out.iter()
                        .map(|b| match b {
                            Some(Value::Int(i)) => *i,
                            _ => 0,
                        })
                        .collect(),
                ),
                ColumnType::Float => Col::Float(
                    out.iter()
                        .map(|b| match b {
                            Some(Value::Float(f)) => *f,
                            Some(Value::Int(i)) => *i as f64,
                            _ => 0.0,
                        })
                        .collect(),
                ),
                ColumnType::Bool => Col::Bool(
                    out.iter()
                        .map(|b| b.as_ref().is_some_and(Value::truthy))
                        .collect(),
                ),
                ColumnType::Str | ColumnType::Date => Col::Str(
                    out.into_iter()
                        .map(|b| match b {
                            Some(Value::Str(s)) => s,
                            _ => String::new(),
                        })
                        .collect(),
                ),
            })
        }
        _ => compute_expression(v, n, lookup),
    }
}

fn compare_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        _ => {
            let f = |v: &Value| match v {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                Value::Bool(b) => f64::from(u8::from(*b)),
                Value::Str(_) => 0.0,
            };
            f(a).total_cmp(&f(b))
        }
    }
}

/// Evaluates a `categorised_as` or `satisfying` column from the columns it names.
fn compute_expression<'a, F, G>(v: &Variable, n: usize, lookup: &'a F) -> Result<Col, String>
where
    F: Fn(usize) -> G,
    G: Fn(&str) -> Value + 'a,
{
    match &v.derived {
        Derived::Satisfying(expression) => Ok(Col::Bool(
            (0..n)
                .map(|r| expression.eval(&lookup(r)).truthy())
                .collect(),
        )),
        Derived::Categorised { cases, default } => {
            let labels: Vec<&str> = (0..n)
                .map(|r| {
                    let var = lookup(r);
                    cases
                        .iter()
                        .find(|(_, e)| e.eval(&var).truthy())
                        .map_or(default.as_str(), |(label, _)| label.as_str())
                })
                .collect();
            Ok(match v.column_type {
                ColumnType::Int => Col::Int(
                    labels
                        .iter()
                        .map(|l| {
                            l.parse::<i64>()
                                .map_err(|_| format!("category `{l}` is not an integer"))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                ColumnType::Bool => {
                    Col::Bool(labels.iter().map(|l| *l != "0" && !l.is_empty()).collect())
                }
                ColumnType::Float => Col::Float(
                    labels
                        .iter()
                        .map(|l| {
                            l.parse::<f64>()
                                .map_err(|_| format!("category `{l}` is not a number"))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                ColumnType::Str | ColumnType::Date => Col::Str(
                    labels
                        .iter()
                        .map(std::string::ToString::to_string)
                        .collect(),
                ),
            })
        }
        _ => Err("is not computed from other columns".into()),
    }
}
