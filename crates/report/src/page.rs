//! Rendering the report page from its templates with tera: the title, kicker, intro and
//! methods (Markdown, from the outputs file or built from the study definition), the codelists,
//! and one section per chart.

use std::fmt::Write as _;

use charts::codelist::CodelistTable;
use charts::outputs::{expand, Kind};
use charts::{LoadedChart, Plan, Study};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use tera::{Context, Tera};

use crate::view::{views, ChartView, TableView};

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
    /// Anchor id, e.g. `total`.
    pub id: String,
    /// Heading and link text.
    pub heading: String,
    /// The chart.
    pub chart: ChartView,
    /// The monthly numbers.
    pub table: TableView,
    /// The numbers as a `data:` URL (the "download CSV" link).
    pub csv_url: String,
}

/// A codelist shown in the methods.
#[derive(Debug, Clone, Serialize)]
pub struct CodelistView {
    /// Its title (the outputs file's, or its name).
    pub title: String,
    /// Its id (the outputs file's, or its CSV path).
    pub id: String,
    /// Whether the file has terms.
    pub has_terms: bool,
    /// The heading of the extra column (`CTV3 ID`), if any.
    pub extra_header: Option<String>,
    /// The codes.
    pub codes: Vec<CodeView>,
}

/// One code of a codelist.
#[derive(Debug, Clone, Serialize)]
pub struct CodeView {
    /// The code.
    pub code: String,
    /// Its term.
    pub term: String,
    /// The extra column's cell.
    pub extra: String,
}

#[derive(Debug, Serialize)]
struct Page {
    title: String,
    kicker: Option<String>,
    intro: String,
    methods: String,
    codelists: Vec<CodelistView>,
    sections: Vec<Section>,
}

/// `01/2019`.
fn month_year(d: NaiveDate) -> String {
    format!("{:02}/{}", d.month(), d.year())
}

/// `January 2019`.
fn month_name_year(d: NaiveDate) -> String {
    d.format("%B %Y").to_string()
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

/// Markdown to HTML (CommonMark, as pulldown-cmark renders it; raw HTML passes through).
pub fn markdown(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::ENABLE_TABLES);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// A `data:` URL of `text` as CSV (percent-encoded: the page needs no network to download it).
pub fn csv_data_url(text: &str) -> String {
    let mut url = String::from("data:text/csv;charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(b as char);
        } else {
            let _ = write!(url, "%{b:02X}");
        }
    }
    url
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

/// The template variables of the outputs file's texts, for the study period `first`…`last`.
struct Variables {
    period_start: String,
    period_end: String,
    first_month: String,
    last_month: String,
    threshold: String,
    codelists: String,
}

impl Variables {
    fn get(&self, name: &str) -> String {
        match name {
            "period_start" => self.period_start.clone(),
            "period_end" => self.period_end.clone(),
            "first_month" => self.first_month.clone(),
            "last_month" => self.last_month.clone(),
            "threshold" => self.threshold.clone(),
            "codelists" => self.codelists.clone(),
            _ => String::new(),
        }
    }
}

fn rate_words(chart: &charts::ChartSpec) -> String {
    match chart.quantity {
        charts::data::Quantity::Count => format!("the number of {}", chart.numerator_label),
        charts::data::Quantity::Rate { per } => format!(
            "the rate {} {}",
            charts::axis::per_text(per),
            chart.denominator_label
        ),
    }
}

/// The methods a study gets without an outputs file: the study definition, the index dates,
/// each measure's definition, the redaction rule and the codelists.
fn default_methods(
    study: &Study,
    plan: &Plan,
    charts: &[LoadedChart],
    dates: &[NaiveDate],
) -> String {
    let mut md = String::new();
    let definition = study.definition.display();
    let _ = write!(
        md,
        "The charts show the measures of the study definition `{definition}`, computed by `generate_measures` for each index date from {{{{ period_start }}}} until {{{{ period_end }}}}"
    );
    if dates.len() <= 12 {
        let list: Vec<String> = dates.iter().map(ToString::to_string).collect();
        let _ = writeln!(md, " (index dates {}).\n", list.join(", "));
    } else {
        let _ = writeln!(
            md,
            " ({} index dates, {} to {}).\n",
            dates.len(),
            dates[0],
            dates[dates.len() - 1]
        );
    }
    md.push_str("Measures:\n\n");
    for c in charts {
        let m = &c.spec.measure;
        let groups = if m.group_by.is_empty() {
            "one total per date".to_string()
        } else {
            format!(
                "grouped by {}",
                m.group_by
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let drawn = match c.spec.kind {
            Kind::Line => format!("drawn as {}", rate_words(&c.spec)),
            Kind::Deciles => format!(
                "drawn as the deciles of the groups' {}",
                rate_words(&c.spec).trim_start_matches("the ")
            ),
        };
        let _ = writeln!(
            md,
            "- **{}** (`{}`): numerator `{}`, denominator `{}`, {groups}; {drawn}.",
            c.spec.heading, m.id, m.numerator, m.denominator
        );
    }
    let _ = writeln!(
        md,
        "\nTo protect patient privacy, any month in which a numerator or a denominator is {} or fewer is redacted: it is not drawn and its numbers are left blank in the tables (a deciles chart leaves out a month with {} or fewer groups).",
        plan.redact_at_or_below, plan.redact_at_or_below
    );
    if !study.codelists.is_empty() {
        md.push_str("\nCodelists: {{ codelists }}; their codes are listed below.\n");
    }
    md
}

/// Renders the report for the loaded `charts` (in report order) of `study`, with its
/// `codelists` (already read). The study period is the first to the last month over all charts.
pub fn render_report(
    study: &Study,
    plan: &Plan,
    charts: &[LoadedChart],
    codelists: &[CodelistTable],
) -> Result<String, RenderError> {
    let mut dates: Vec<NaiveDate> = charts.iter().flat_map(LoadedChart::dates).collect();
    dates.sort_unstable();
    dates.dedup();
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return Err(RenderError::NoData);
    };
    let outputs = plan.outputs.as_ref();
    let codelist_views: Vec<CodelistView> = codelists
        .iter()
        .map(|t| {
            let entry = outputs.and_then(|o| o.codelists.iter().find(|c| c.name.value == t.name));
            CodelistView {
                title: entry
                    .and_then(|e| e.title.clone())
                    .unwrap_or_else(|| t.name.clone()),
                id: entry.and_then(|e| e.id.clone()).unwrap_or_else(|| {
                    t.csv.as_ref().map_or_else(
                        || "written in the study definition".to_string(),
                        |p| p.display().to_string(),
                    )
                }),
                has_terms: t.has_terms,
                extra_header: t.extra_header.clone(),
                codes: t
                    .codes
                    .iter()
                    .map(|c| CodeView {
                        code: c.code.clone(),
                        term: c.term.clone(),
                        extra: c.extra.clone().unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    let vars = Variables {
        period_start: month_name_year(first),
        period_end: month_name_year(last),
        first_month: month_year(first),
        last_month: month_year(last),
        threshold: plan.redact_at_or_below.to_string(),
        codelists: codelist_views
            .iter()
            .map(|c| format!("<q>{}</q> ({})", escape_html(&c.title), escape_html(&c.id)))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let text = |t: Option<&charts::outputs::Spanned<String>>| {
        t.map(|t| expand(&t.value, |name| vars.get(name)))
    };
    let title = text(outputs.and_then(|o| o.title.as_ref())).unwrap_or_else(|| study.name.clone());
    let kicker = text(outputs.and_then(|o| o.kicker.as_ref()));
    let intro = text(outputs.and_then(|o| o.intro.as_ref())).unwrap_or_else(|| {
        expand(
            "Below are time-series charts of the study's measures, from {{ period_start }} until {{ period_end }}. The following charts are available:\n",
            |name| vars.get(name),
        )
    });
    let methods = text(outputs.and_then(|o| o.methods.as_ref())).unwrap_or_else(|| {
        expand(&default_methods(study, plan, charts, &dates), |name| {
            vars.get(name)
        })
    });
    let sections = charts
        .iter()
        .map(|c| {
            let (chart, table) = views(c, plan.redact_at_or_below);
            Section {
                id: c.spec.id.clone(),
                heading: c.spec.heading.clone(),
                csv_url: csv_data_url(&table.csv),
                chart,
                table,
            }
        })
        .collect();
    let page = Page {
        title,
        kicker,
        intro: markdown(&intro),
        methods: markdown(&methods),
        codelists: codelist_views,
        sections,
    };
    let context = Context::from_serialize(&page)?;
    Ok(templates()?.render("report.html", &context)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_words() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month_year(d("2019-01-01")), "01/2019");
        assert_eq!(month_name_year(d("2019-01-01")), "January 2019");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape_html("a<b>&\"c'/"), "a&lt;b&gt;&amp;&quot;c&#39;/");
    }

    #[test]
    fn markdown_and_data_urls() {
        assert_eq!(
            markdown("a *b* <q>c</q>\n\nd's `e`\n"),
            "<p>a <em>b</em> <q>c</q></p>\n<p>d's <code>e</code></p>\n"
        );
        assert_eq!(
            csv_data_url("a,b\n1,\"x y\"\n"),
            "data:text/csv;charset=utf-8,a%2Cb%0A1%2C%22x%20y%22%0A"
        );
    }

    #[test]
    fn templates_parse() {
        templates().unwrap();
    }
}
