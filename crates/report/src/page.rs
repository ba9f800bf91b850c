//! Rendering the report page from its templates with tera.

use chrono::{Datelike, NaiveDate};
use plots::data::REDACTION_THRESHOLD;
use plots::study::{Breakdown, StudyChart};
use serde::Serialize;
use tera::{Context, Tera};

use crate::codelist::Code;
use crate::view::{chart_view, table_view, ChartLabels, ChartView, TableView};

/// The codelist's name, as published on OpenSAFELY Codelists.
pub const CODELIST_NAME: &str = "Pulse Oximetry - NHS Digital COVID at Home codes";
/// The codelist's id and version.
pub const CODELIST_ID: &str = "opensafely/pulse-oximetry/72ce1380";

/// Errors rendering the page.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed to parse or render (a bug in the templates, not in the input).
    #[error("rendering the report template failed: {0}")]
    Template(String),
    /// Nothing to report.
    #[error("no measure data: the report needs at least one month")]
    NoData,
}

impl From<tera::Error> for RenderError {
    fn from(e: tera::Error) -> Self {
        // tera keeps the cause chain in `source()`; show all of it.
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Self::Template(message)
    }
}

/// One section of the report: a chart and the table behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Anchor id: `total`, `region`, `age`, `sex`.
    pub id: String,
    /// Heading and link text.
    pub heading: String,
    /// The chart.
    pub chart: ChartView,
    /// The monthly numbers.
    pub table: TableView,
}

#[derive(Debug, Serialize)]
struct CodelistView<'a> {
    name: &'a str,
    id: &'a str,
    codes: &'a [Code],
    has_ctv3: bool,
}

#[derive(Debug, Serialize)]
struct Page<'a> {
    title: String,
    period_start: String,
    period_end: String,
    threshold: u32,
    codelist: CodelistView<'a>,
    sections: Vec<Section>,
}

/// The order of the report's sections (as in the notebook): total, region, age, sex.
pub const SECTION_ORDER: [Breakdown; 4] = [
    Breakdown::Total,
    Breakdown::Region,
    Breakdown::AgeBand,
    Breakdown::Sex,
];

/// Section id, heading and chart title of a breakdown.
pub fn section_words(b: Breakdown) -> (&'static str, &'static str, &'static str) {
    match b {
        Breakdown::Total => (
            "total",
            "Total pulse oximetry number",
            "Total Pulse Oximetry Number",
        ),
        Breakdown::Region => ("region", "Breakdown by region", "Rate by region"),
        Breakdown::AgeBand => ("age", "Breakdown by age band", "Rate by age"),
        Breakdown::Sex => ("sex", "Breakdown by sex", "Rate by sex"),
    }
}

/// `01/2019`.
fn month_year(d: NaiveDate) -> String {
    format!("{:02}/{}", d.month(), d.year())
}

/// `January 2019`.
fn month_name_year(d: NaiveDate) -> String {
    d.format("%B %Y").to_string()
}

/// The report title for a study period.
pub fn title(first: NaiveDate, last: NaiveDate) -> String {
    format!(
        "Changes occurring in pulse oximetry related to COVID-19: {}-{}",
        month_year(first),
        month_year(last)
    )
}

/// Escapes text for HTML content and quoted attributes (`&`, `<`, `>`, `"`, `'`).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn templates() -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    tera.add_raw_templates(vec![
        ("report.css", include_str!("../templates/report.css")),
        ("report.js", include_str!("../templates/report.js")),
        ("chart.html", include_str!("../templates/chart.html")),
        ("report.html", include_str!("../templates/report.html")),
    ])?;
    tera.autoescape_on(vec![".html"]);
    tera.set_escape_fn(escape_html);
    Ok(tera)
}

/// Renders the report for the study's charts (any order; sections follow [`SECTION_ORDER`])
/// and its codelist. The study period is the first to the last month over all charts.
pub fn render_report(charts: &[StudyChart], codes: &[Code]) -> Result<String, RenderError> {
    let dates = charts.iter().flat_map(|c| c.data.dates.iter().copied());
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
        return Err(RenderError::NoData);
    };
    let sections = SECTION_ORDER
        .iter()
        .filter_map(|b| charts.iter().find(|c| c.breakdown == *b))
        .map(|c| {
            let b = c.breakdown;
            let (id, heading, chart_title) = section_words(b);
            Section {
                id: id.to_string(),
                heading: heading.to_string(),
                chart: chart_view(
                    &c.data,
                    b.quantity(),
                    ChartLabels {
                        id,
                        title: chart_title,
                        y_label: b.y_label(),
                        legend_title: b.group_label(),
                    },
                ),
                table: table_view(&c.data, b.group_label()),
            }
        })
        .collect();
    let page = Page {
        title: title(first, last),
        period_start: month_name_year(first),
        period_end: month_name_year(last),
        threshold: REDACTION_THRESHOLD as u32,
        codelist: CodelistView {
            name: CODELIST_NAME,
            id: CODELIST_ID,
            codes,
            has_ctv3: codes.iter().any(|c| c.ctv3.is_some()),
        },
        sections,
    };
    let context = Context::from_serialize(&page)?;
    Ok(templates()?.render("report.html", &context)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_from_period() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            title(d("2019-01-01"), d("2021-01-01")),
            "Changes occurring in pulse oximetry related to COVID-19: 01/2019-01/2021"
        );
        assert_eq!(month_name_year(d("2019-01-01")), "January 2019");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape_html("a<b>&\"c'/"), "a&lt;b&gt;&amp;&quot;c&#39;/");
    }

    #[test]
    fn templates_parse() {
        templates().unwrap();
    }
}
