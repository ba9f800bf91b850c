//! The chart model: which charts a study gets (every measure by default, or the outputs file's
//! `charts:`), with their words, y quantity and groups resolved, and each chart's data read from
//! its measure file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use yaml::{Diagnostic, Pos};

use crate::data::{read_measure_file, ChartData, DataError, Quantity, REDACTION_THRESHOLD};
use crate::deciles::DecilesData;
use crate::outputs::{ChartEntry, GroupFilter, Kind, Outputs, OutputsError, YKind};
use crate::study::{Measure, Study};

/// The per-1,000 default of `y: rate`.
pub const DEFAULT_PER: f64 = 1000.0;

/// One chart, resolved: what to read, how to draw it, what to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// The measure it draws.
    pub measure: Measure,
    /// Lines or deciles.
    pub kind: Kind,
    /// The JPEG's file name under the plots image's output folder.
    pub file: String,
    /// The chart's title (the JPEG's).
    pub title: String,
    /// The report's chart title.
    pub caption: String,
    /// The report section's heading and link text.
    pub heading: String,
    /// The report section's anchor.
    pub id: String,
    /// What the y axis shows.
    pub quantity: Quantity,
    /// The y axis label.
    pub y_label: String,
    /// The legend heading; `None` for a single line.
    pub legend: Option<String>,
    /// Which groups are drawn.
    pub groups: GroupFilter,
    /// What the numerator counts, in words (`patients with a code`).
    pub numerator_label: String,
    /// What the denominator counts, in words (`registered patients`).
    pub denominator_label: String,
    /// The outputs file that configured it, for warnings.
    pub outputs_file: Option<PathBuf>,
}

/// The charts of a study and the settings they share.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The charts, in report order.
    pub charts: Vec<ChartSpec>,
    /// Counts at or below this are redacted.
    pub redact_at_or_below: u32,
    /// The outputs file, if there was one.
    pub outputs: Option<Outputs>,
}

/// `pulse_ox_by_sex` → `Pulse ox by sex`.
pub fn humanise(id: &str) -> String {
    let words = id.replace('_', " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Registered patients` from `registered patients`.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn spec(measure: &Measure, entry: Option<&ChartEntry>, outputs: Option<&Outputs>) -> ChartSpec {
    let e = entry.cloned().unwrap_or_default();
    let kind = e.kind;
    let title = e.title.unwrap_or_else(|| humanise(&measure.id));
    let quantity = match e.y {
        Some(YKind::Count) => Quantity::Count,
        Some(YKind::Rate) | None => Quantity::Rate {
            per: e.per.unwrap_or(DEFAULT_PER),
        },
    };
    let y_label = e.y_label.unwrap_or_else(|| match quantity {
        Quantity::Count => "Total Number".to_string(),
        Quantity::Rate { per } => format!("Rate {}", crate::axis::per_text(per)),
    });
    let legend = match kind {
        Kind::Deciles => Some(e.legend.unwrap_or_else(|| "Deciles".to_string())),
        Kind::Line if measure.group_by.is_empty() => e.legend,
        Kind::Line => Some(
            e.legend
                .unwrap_or_else(|| humanise(&measure.group_by.join(" and "))),
        ),
    };
    let label = |own: Option<String>, shared: Option<&String>, variable: &str| {
        own.or_else(|| shared.cloned())
            .unwrap_or_else(|| variable.replace('_', " "))
    };
    ChartSpec {
        measure: measure.clone(),
        kind,
        file: e
            .file
            .map_or_else(|| format!("{}.jpeg", measure.id), |f| f.value),
        caption: e.caption.unwrap_or_else(|| title.clone()),
        heading: e.heading.unwrap_or_else(|| title.clone()),
        id: e.id.map_or_else(|| measure.id.clone(), |i| i.value),
        title,
        quantity,
        y_label,
        legend,
        groups: e.groups,
        numerator_label: label(
            e.numerator_label,
            outputs.and_then(|o| o.numerator_label.as_ref()),
            &measure.numerator,
        ),
        denominator_label: label(
            e.denominator_label,
            outputs.and_then(|o| o.denominator_label.as_ref()),
            &measure.denominator,
        ),
        outputs_file: outputs.map(|o| o.path.clone()),
    }
}

/// The charts of `study`: one per measure, or the outputs file's `charts:`. A chart naming a
/// measure the study does not define, a codelist the study does not define, a deciles chart of
/// a measure without groups, or two charts with one file or one anchor are errors naming the
/// outputs file, line and column.
pub fn plan(study: &Study, outputs: Option<Outputs>) -> Result<Plan, OutputsError> {
    let mut errors = Vec::new();
    let redact_at_or_below = outputs
        .as_ref()
        .and_then(|o| o.redact_at_or_below)
        .unwrap_or(REDACTION_THRESHOLD as u32);
    let charts: Vec<(Pos, ChartSpec)> = match outputs.as_ref().and_then(|o| o.charts.as_ref()) {
        None => study
            .measures
            .iter()
            .map(|m| (Pos::FILE, spec(m, None, outputs.as_ref())))
            .collect(),
        Some(entries) => entries
            .iter()
            .filter_map(|entry| {
                let Some(measure) = study
                    .measures
                    .iter()
                    .find(|m| m.id == entry.measure.value)
                else {
                    let ids = study.measures.iter().map(|m| m.id.as_str());
                    let hint = yaml::suggest::closest(&entry.measure.value, ids.clone())
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    errors.push(Diagnostic::error(
                        entry.measure.pos,
                        format!(
                            "charts: unknown measure `{}` (the study definition's measures: {}){hint}",
                            entry.measure.value,
                            ids.collect::<Vec<_>>().join(", ")
                        ),
                    ));
                    return None;
                };
                if entry.kind == Kind::Deciles && measure.group_by.is_empty() {
                    errors.push(Diagnostic::error(
                        entry.pos,
                        format!(
                            "charts: a deciles chart needs a measure grouped by practice (or another group); `{}` has no group_by",
                            measure.id
                        ),
                    ));
                }
                Some((entry.pos, spec(measure, Some(entry), outputs.as_ref())))
            })
            .collect(),
    };
    if let Some(o) = &outputs {
        for c in &o.codelists {
            if !study.codelists.iter().any(|s| s.name == c.name.value) {
                errors.push(Diagnostic::error(
                    c.name.pos,
                    format!(
                        "codelists: unknown codelist `{}` (the study definition's codelists: {})",
                        c.name.value,
                        study
                            .codelists
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        // Two charts must not share a file or an anchor.
        let mut files = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for &(pos, ref c) in &charts {
            if !files.insert(c.file.clone()) {
                errors.push(Diagnostic::error(
                    pos,
                    format!(
                        "charts: a second chart written to `{}` (give this one its own `file`)",
                        c.file
                    ),
                ));
            }
            if !ids.insert(c.id.clone()) {
                errors.push(Diagnostic::error(
                    pos,
                    format!(
                        "charts: a second report section `{}` (give this one its own `id`)",
                        c.id
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        let file = outputs.as_ref().map(|o| o.path.clone()).unwrap_or_default();
        errors.sort_by_key(|d| d.pos);
        return Err(OutputsError(
            errors.into_iter().map(|d| d.in_file(&file)).collect(),
        ));
    }
    Ok(Plan {
        charts: charts.into_iter().map(|(_, c)| c).collect(),
        redact_at_or_below,
        outputs,
    })
}

/// What a chart draws.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// One line per group.
    Lines(ChartData),
    /// The percentiles of the groups.
    Deciles(DecilesData),
}

/// A chart with its data.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedChart {
    /// The chart.
    pub spec: ChartSpec,
    /// The measure file read.
    pub path: PathBuf,
    /// The data, redacted.
    pub body: Body,
    /// `keep` values the data never holds.
    pub warnings: Vec<Diagnostic>,
}

impl LoadedChart {
    /// The chart's months, ascending.
    pub fn dates(&self) -> Vec<NaiveDate> {
        match &self.body {
            Body::Lines(d) => d.dates.clone(),
            Body::Deciles(d) => d.dates(),
        }
    }

    /// Whether nothing is left to draw after redaction.
    pub fn is_empty(&self) -> bool {
        match &self.body {
            Body::Lines(d) => d.max_value(self.spec.quantity).is_none(),
            Body::Deciles(d) => d.max_value().is_none(),
        }
    }

    /// A line for the log: series and points (or months) drawn and left out.
    pub fn summary(&self) -> String {
        match &self.body {
            Body::Lines(d) => {
                let (shown, redacted) = d.counts();
                format!(
                    "{} series, {shown} points drawn, {redacted} redacted",
                    d.series.len()
                )
            }
            Body::Deciles(d) => {
                let shown = d.months.iter().filter(|m| m.values.is_some()).count();
                format!(
                    "deciles, {shown} months drawn, {} left out",
                    d.months.len() - shown
                )
            }
        }
    }
}

impl ChartSpec {
    /// Reads this chart's measure file from `measures_dir` and builds its data.
    pub fn load(
        &self,
        measures_dir: &Path,
        redact_at_or_below: u32,
    ) -> Result<LoadedChart, DataError> {
        let path = measures_dir.join(self.measure.file_name());
        let rows = read_measure_file(&path, &self.measure.columns())?;
        let threshold = f64::from(redact_at_or_below);
        let column = self.measure.group_by.join(", ");
        let body = match self.kind {
            Kind::Line => {
                let group = (!column.is_empty()).then_some(column.as_str());
                Body::Lines(ChartData::from_rows(
                    &path,
                    group,
                    &rows,
                    |g| self.groups.keeps(g),
                    threshold,
                )?)
            }
            Kind::Deciles => Body::Deciles(DecilesData::from_rows(
                &path,
                &column,
                &rows,
                self.quantity,
                threshold,
            )?),
        };
        let mut warnings = Vec::new();
        if let GroupFilter::Keep(values) = &self.groups {
            let held: BTreeSet<&str> = rows.iter().filter_map(|r| r.group.as_deref()).collect();
            for v in values {
                if !held.contains(v.value.as_str()) {
                    let mut d = Diagnostic::warning(
                        v.pos,
                        format!(
                            "charts: keep: measure `{}` has no group `{}` in {}",
                            self.measure.id,
                            v.value,
                            path.file_name().unwrap_or_default().to_string_lossy()
                        ),
                    );
                    if let Some(file) = &self.outputs_file {
                        d = d.in_file(file);
                    }
                    warnings.push(d);
                }
            }
        }
        Ok(LoadedChart {
            spec: self.clone(),
            path,
            body,
            warnings,
        })
    }
}

/// The outputs file `--outputs` names, or `analysis/outputs.yaml` when it exists; `None` when
/// neither. Returns (path to read, path to show).
pub fn outputs_path(project_dir: &Path, flag: Option<&Path>) -> Option<(PathBuf, PathBuf)> {
    match flag {
        Some(p) => Some((project_dir.join(p), p.to_path_buf())),
        None => {
            let default = Path::new("analysis/outputs.yaml");
            let full = project_dir.join(default);
            full.is_file().then(|| (full, default.to_path_buf()))
        }
    }
}

/// Reads the outputs file (see [`outputs_path`]) and plans the charts of `study`. Returns the
/// plan and the outputs file read, if any.
pub fn plan_for(
    study: &Study,
    project_dir: &Path,
    flag: Option<&Path>,
) -> Result<(Plan, Option<PathBuf>), OutputsError> {
    let found = outputs_path(project_dir, flag);
    let outputs = found
        .as_ref()
        .map(|(full, shown)| Outputs::read(full, shown))
        .transpose()?;
    Ok((plan(study, outputs)?, found.map(|(_, shown)| shown)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study() -> Study {
        Study {
            name: "s".into(),
            measures: vec![
                Measure::new("visits_total", "visited", "population"),
                Measure::new("visits_by_band", "visited", "population").grouped(&["band"]),
            ],
            ..Study::default()
        }
    }

    fn outputs(text: &str) -> Outputs {
        Outputs::parse(Path::new("o.yaml"), text).unwrap()
    }

    #[test]
    fn defaults_chart_every_measure() {
        let p = plan(&study(), None).unwrap();
        assert_eq!(p.redact_at_or_below, 5);
        let c = &p.charts[1];
        assert_eq!(
            (c.title.as_str(), c.file.as_str(), c.id.as_str()),
            ("Visits by band", "visits_by_band.jpeg", "visits_by_band")
        );
        assert_eq!(c.quantity, Quantity::PER_1000);
        assert_eq!(c.y_label, "Rate per 1,000");
        assert_eq!(c.legend.as_deref(), Some("Band"));
        assert_eq!(p.charts[0].legend, None);
        assert_eq!(c.numerator_label, "visited");
    }

    #[test]
    fn outputs_choose_and_order_the_charts() {
        let p = plan(
            &study(),
            Some(outputs(
                "charts:\n  - measure: visits_by_band\n    y: rate\n    per: 100\n  - measure: visits_total\n    y: count\n",
            )),
        )
        .unwrap();
        assert_eq!(p.charts[0].quantity, Quantity::Rate { per: 100.0 });
        assert_eq!(p.charts[0].y_label, "Rate per 100");
        assert_eq!(p.charts[1].quantity, Quantity::Count);
    }

    #[test]
    fn unknown_measures_and_codelists_and_clashes_are_errors() {
        let e = plan(
            &study(),
            Some(outputs("charts:\n  - measure: visits_totl\n")),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "o.yaml:2:14: charts: unknown measure `visits_totl` (the study definition's measures: visits_total, visits_by_band); did you mean `visits_total`?"
        );
        let e = plan(&study(), Some(outputs("codelists:\n  nope: {title: x}\n"))).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("o.yaml:2:3: codelists: unknown codelist `nope`"));
        let e = plan(
            &study(),
            Some(outputs(
                "charts:\n  - measure: visits_total\n  - measure: visits_total\n",
            )),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("o.yaml:3:5: charts: a second chart written to `visits_total.jpeg`"),
            "{e}"
        );
        let e = plan(
            &study(),
            Some(outputs(
                "charts:\n  - measure: visits_total\n    kind: deciles\n",
            )),
        )
        .unwrap_err();
        assert!(e.to_string().contains("has no group_by"), "{e}");
    }

    #[test]
    fn humanised_ids() {
        assert_eq!(humanise("pulse_ox_by_sex"), "Pulse ox by sex");
        assert_eq!(humanise("age_band"), "Age band");
        assert_eq!(capitalise("registered patients"), "Registered patients");
    }
}
