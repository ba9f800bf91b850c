//! Parsing merged expectations (`default_expectations` deep-merged with a variable's
//! `return_expectations`) into a typed form.

use chrono::NaiveDate;
use serde_yaml::Value;

use crate::lang::dates::DateExpr;

/// How dates (and, for non-universal rates, which rows are present) are generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// Dates concentrated towards `latest`: density ∝ exp(-10 (latest - d) / span).
    ExponentialIncrease,
    Uniform,
    /// Every row has a value; incidence is ignored.
    Universal,
}

/// A distribution for int or float values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    Normal { mean: f64, stddev: f64 },
    Poisson { mean: f64 },
    PopulationAges,
}

/// One column's expectations, merged and evaluated for an index date.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub rate: Rate,
    /// Share of rows with a value (ignored when universal).
    pub incidence: f64,
    pub earliest: NaiveDate,
    pub latest: NaiveDate,
    /// `category.ratios` in file order.
    pub categories: Option<Vec<(String, f64)>>,
    pub int: Option<Distribution>,
    pub float: Option<Distribution>,
}

/// Recursively merges `over` into `base`: mappings merge key by key (`over` wins), anything
/// else is replaced.
pub fn deep_merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Mapping(out)
        }
        (_, over) => over.clone(),
    }
}

/// Parses merged expectations for `index_date` (dates may be ISO, `today`, `index_date` or
/// `index_date ± N unit(s)`). Errors name the key (`date.earliest`, `int.mean`, …).
pub fn parse(
    merged: &Value,
    index_date: NaiveDate,
    today: NaiveDate,
) -> Result<Expectation, String> {
    let map = match merged {
        Value::Mapping(m) => m,
        Value::Null => return Err("no expectations: it must define a date expectation".into()),
        _ => return Err("expectations must be a mapping".into()),
    };
    for key in map.keys() {
        let k = key.as_str().unwrap_or("");
        if ![
            "date",
            "rate",
            "incidence",
            "category",
            "int",
            "float",
            "bool",
        ]
        .contains(&k)
        {
            return Err(format!("unknown expectation key `{}`", yaml_text(key)));
        }
    }
    let rate = match map.get("rate") {
        None => Rate::ExponentialIncrease,
        Some(v) => match v.as_str() {
            Some("exponential_increase") => Rate::ExponentialIncrease,
            Some("uniform") => Rate::Uniform,
            Some("universal") => Rate::Universal,
            _ => {
                return Err(format!(
                    "rate: unknown rate `{}` (expected exponential_increase, uniform or universal)",
                    yaml_text(v)
                ))
            }
        },
    };
    let incidence = match map.get("incidence") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            number(v)
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| {
                    format!("incidence: `{}` is not a number from 0 to 1", yaml_text(v))
                })?,
        ),
    };
    let incidence = match (incidence, rate) {
        (_, Rate::Universal) => 1.0,
        (Some(x), _) if x > 0.0 => x,
        _ => {
            return Err(
                "an incidence above 0 is required unless the rate is `universal`".to_string(),
            )
        }
    };
    let date = map
        .get("date")
        .and_then(Value::as_mapping)
        .ok_or("it must define a date expectation (`date: {earliest: …, latest: …}`)")?;
    let date_of = |key: &str| -> Result<NaiveDate, String> {
        let v = date
            .get(key)
            .ok_or_else(|| format!("it must define a date expectation: `date.{key}` is missing"))?;
        let text = v
            .as_str()
            .ok_or_else(|| format!("date.{key}: `{}` is not a date", yaml_text(v)))?
            .trim();
        if text == "today" {
            return Ok(today);
        }
        DateExpr::parse(text)
            .map_err(|e| format!("date.{key}: {e}"))?
            .eval(Some(index_date), today)
            .map_err(|e| format!("date.{key}: {e}"))
    };
    let (earliest, latest) = (date_of("earliest")?, date_of("latest")?);
    if latest < earliest {
        return Err(format!(
            "date: latest ({latest}) is before earliest ({earliest})"
        ));
    }
    let categories = match map.get("category") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let ratios = v
                .get("ratios")
                .and_then(Value::as_mapping)
                .ok_or("category: expected `ratios: {label: share, …}`")?;
            let mut out = Vec::new();
            for (k, share) in ratios {
                let p = number(share).filter(|p| *p >= 0.0).ok_or_else(|| {
                    format!(
                        "category.ratios.{}: `{}` is not a share",
                        yaml_text(k),
                        yaml_text(share)
                    )
                })?;
                out.push((yaml_text(k), p));
            }
            let total: f64 = out.iter().map(|(_, p)| p).sum();
            if out.is_empty() || (total - 1.0).abs() > 1e-8 {
                return Err(format!(
                    "category.ratios: the shares add up to {total}, not 1"
                ));
            }
            Some(out)
        }
    };
    Ok(Expectation {
        rate,
        incidence,
        earliest,
        latest,
        categories,
        int: distribution(map.get("int"), "int")?,
        float: distribution(map.get("float"), "float")?,
    })
}

fn distribution(v: Option<&Value>, key: &str) -> Result<Option<Distribution>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let field = |name: &str| -> Result<f64, String> {
        let x = v
            .get(name)
            .ok_or_else(|| format!("{key}.{name} is missing"))?;
        number(x).ok_or_else(|| format!("{key}.{name}: `{}` is not a number", yaml_text(x)))
    };
    let name = v
        .get("distribution")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key}.distribution is missing"))?;
    Ok(Some(match (name, key) {
        ("normal", _) => {
            let stddev = field("stddev")?;
            if stddev < 0.0 {
                return Err(format!("{key}.stddev must not be negative"));
            }
            Distribution::Normal {
                mean: field("mean")?,
                stddev,
            }
        }
        ("poisson", "int") => {
            let mean = field("mean")?;
            if mean < 0.0 {
                return Err(format!("{key}.mean must not be negative"));
            }
            Distribution::Poisson { mean }
        }
        ("population_ages", "int") => Distribution::PopulationAges,
        (other, _) => {
            let known = if key == "int" {
                "normal, poisson or population_ages"
            } else {
                "normal"
            };
            return Err(format!(
                "{key}.distribution: unknown distribution `{other}` (expected {known})"
            ));
        }
    }))
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_i64().map(|i| i as f64))
}

/// A YAML scalar as text (for labels and messages).
pub(crate) fn yaml_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn merge_is_deep_and_the_variable_wins() {
        let base = y(
            "{date: {earliest: '2019-01-01', latest: '2020-01-01'}, rate: uniform, incidence: 1}",
        );
        let over = y("{date: {latest: index_date}, incidence: 0.5}");
        let m = deep_merge(&base, &over);
        assert_eq!(
            m,
            y("{date: {earliest: '2019-01-01', latest: index_date}, rate: uniform, incidence: 0.5}")
        );
        let e = parse(&m, d("2020-06-01"), d("2026-01-01")).unwrap();
        assert_eq!(e.latest, d("2020-06-01"));
        assert_eq!(e.earliest, d("2019-01-01"));
        assert_eq!(e.rate, Rate::Uniform);
        assert_eq!(e.incidence, 0.5);
    }

    #[test]
    fn date_expressions_and_today() {
        let m = y("{date: {earliest: index_date - 1 year, latest: today}, incidence: 1}");
        let e = parse(&m, d("2020-02-29"), d("2026-01-01"));
        // 2020-02-29 - 1 year does not exist: an error, not a clamp.
        assert!(e.unwrap_err().contains("date.earliest"));
        let e = parse(&m, d("2020-03-01"), d("2026-01-01")).unwrap();
        assert_eq!((e.earliest, e.latest), (d("2019-03-01"), d("2026-01-01")));
    }

    #[test]
    fn errors_name_the_key() {
        let t = d("2020-01-01");
        let cases = [
            ("{incidence: 1}", "date expectation"),
            ("{date: {earliest: '2019-01-01'}, incidence: 1}", "date.latest"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}}", "incidence"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, incidence: 2}", "incidence"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, rate: fast, incidence: 1}", "rate"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, incidence: 1, category: {ratios: {a: 0.5, b: 0.4}}}", "add up to"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, incidence: 1, int: {distribution: gamma}}", "int.distribution"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, incidence: 1, int: {distribution: normal, mean: 1}}", "int.stddev"),
            ("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, incidence: 1, colour: red}", "colour"),
        ];
        for (text, want) in cases {
            let e = parse(&y(text), t, t).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
        let ok = parse(
            &y("{date: {earliest: '2019-01-01', latest: '2020-01-01'}, rate: universal, int: {distribution: population_ages}}"),
            t,
            t,
        )
        .unwrap();
        assert_eq!(ok.int, Some(Distribution::PopulationAges));
        assert_eq!(ok.incidence, 1.0);
    }
}
