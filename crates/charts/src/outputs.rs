//! The outputs file (`analysis/outputs.yaml`, or `--outputs FILE`): what a study wants from its
//! charts and report beyond the defaults. Read with the workspace's positioned YAML reader, so
//! every problem is a [`Diagnostic`] naming the file, line and column.
//!
//! ```yaml
//! title: "Changes in … : {{ first_month }}-{{ last_month }}"
//! kicker: Service Restoration Observatory
//! intro: |            # Markdown, with the template variables of `VARIABLES`
//!   Below are …
//! methods: |
//!   Using OpenSAFELY-TPP, …
//! redact_at_or_below: 5
//! numerator_label: patients with a code     # words of hover texts and table headings
//! denominator_label: registered patients
//! codelists:
//!   pulse_oximetry_codes: {title: "Pulse Oximetry …", id: opensafely/pulse-oximetry/72ce1380}
//! charts:                                   # in report order; omitted measures get no chart
//!   - measure: pulse_ox_total
//!     file: population_rates.jpeg
//!     title: Pulse Oximetry use across Whole Population
//!     caption: Total Pulse Oximetry Number  # the report's chart title (default: title)
//!     heading: Total pulse oximetry number  # the report section's heading
//!     id: total                             # the report section's anchor
//!     y: count                              # count | rate
//!     per: 1000
//!     y_label: Total Number
//!     legend: Sex
//!     keep: [F, M]                          # or drop: ["0"]
//!     kind: line                            # line | deciles
//! ```

use std::path::{Component, Path, PathBuf};

use yaml::{Diagnostic, Node, Pos};

/// The variables the title, kicker, intro and methods may use as `{{ name }}`.
pub const VARIABLES: [&str; 6] = [
    "period_start",
    "period_end",
    "first_month",
    "last_month",
    "threshold",
    "codelists",
];

const TOP_KEYS: [&str; 9] = [
    "title",
    "kicker",
    "intro",
    "methods",
    "redact_at_or_below",
    "numerator_label",
    "denominator_label",
    "codelists",
    "charts",
];

const CHART_KEYS: [&str; 15] = [
    "measure",
    "kind",
    "file",
    "title",
    "caption",
    "heading",
    "id",
    "y",
    "per",
    "y_label",
    "legend",
    "keep",
    "drop",
    "numerator_label",
    "denominator_label",
];

const CODELIST_KEYS: [&str; 2] = ["title", "id"];

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it starts in the outputs file.
    pub pos: Pos,
}

/// What a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// One line per group (the default).
    #[default]
    Line,
    /// The 10th…90th percentiles of the group values per month, and the median.
    Deciles,
}

/// What the y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YKind {
    /// The numerator.
    Count,
    /// `value × per`.
    Rate,
}

/// Which groups a chart shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum GroupFilter {
    /// Every group.
    #[default]
    All,
    /// Only these values.
    Keep(Vec<Spanned<String>>),
    /// Every value but these.
    Drop(Vec<Spanned<String>>),
}

impl GroupFilter {
    /// Whether the group `value` is charted.
    pub fn keeps(&self, value: &str) -> bool {
        match self {
            Self::All => true,
            Self::Keep(values) => values.iter().any(|v| v.value == value),
            Self::Drop(values) => !values.iter().any(|v| v.value == value),
        }
    }
}

/// One entry of `charts:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartEntry {
    /// Where the entry starts.
    pub pos: Pos,
    /// The measure id, and where it was written.
    pub measure: Spanned<String>,
    /// `kind`.
    pub kind: Kind,
    /// `file`: the JPEG's name under the plots image's `--output-dir`.
    pub file: Option<Spanned<String>>,
    /// `title`.
    pub title: Option<String>,
    /// `caption`: the report's chart title.
    pub caption: Option<String>,
    /// `heading`: the report section's heading.
    pub heading: Option<String>,
    /// `id`: the report section's anchor.
    pub id: Option<Spanned<String>>,
    /// `y`.
    pub y: Option<YKind>,
    /// `per`.
    pub per: Option<f64>,
    /// `y_label`.
    pub y_label: Option<String>,
    /// `legend`.
    pub legend: Option<String>,
    /// `keep` / `drop`.
    pub groups: GroupFilter,
    /// `numerator_label`.
    pub numerator_label: Option<String>,
    /// `denominator_label`.
    pub denominator_label: Option<String>,
}

/// One entry of `codelists:`: how the report names a codelist of the study definition.
#[derive(Debug, Clone, PartialEq)]
pub struct CodelistEntry {
    /// The codelist's name in the study definition, and where it was written.
    pub name: Spanned<String>,
    /// `title`: its name as published.
    pub title: Option<String>,
    /// `id`: e.g. `opensafely/pulse-oximetry/72ce1380`.
    pub id: Option<String>,
}

/// A parsed outputs file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outputs {
    /// The file, as shown in messages.
    pub path: PathBuf,
    /// `title`.
    pub title: Option<Spanned<String>>,
    /// `kicker`.
    pub kicker: Option<Spanned<String>>,
    /// `intro` (Markdown).
    pub intro: Option<Spanned<String>>,
    /// `methods` (Markdown).
    pub methods: Option<Spanned<String>>,
    /// `redact_at_or_below`.
    pub redact_at_or_below: Option<u32>,
    /// `numerator_label`.
    pub numerator_label: Option<String>,
    /// `denominator_label`.
    pub denominator_label: Option<String>,
    /// `codelists`.
    pub codelists: Vec<CodelistEntry>,
    /// `charts`; `None` when absent (every measure gets a chart).
    pub charts: Option<Vec<ChartEntry>>,
}

/// Every error found in an outputs file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct OutputsError(pub Vec<Diagnostic>);

struct Reader {
    diagnostics: Vec<Diagnostic>,
}

impl Reader {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(pos, message));
    }

    fn keys(&mut self, map: &[(Node, Node)], known: &[&str], what: &str) {
        for (k, _) in map {
            let key = k.scalar_text().unwrap_or("");
            if !known.contains(&key) {
                let hint = yaml::suggest::closest(key, known.iter().copied())
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                self.err(
                    k.pos,
                    format!(
                        "{what}unknown key `{key}` (expected one of: {}){hint}",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn string(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.value {
            yaml::Value::Scalar(text, scalar) if !matches!(scalar, yaml::Scalar::Null) => {
                Some(text.clone())
            }
            _ => {
                self.err(
                    node.pos,
                    format!("key `{key}`: expected a string, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    fn template(&mut self, node: &Node, key: &str) -> Option<Spanned<String>> {
        let text = self.string(node, key)?;
        if let Err(name) = check_variables(&text) {
            self.err(
                node.pos,
                format!(
                    "key `{key}`: unknown template variable `{{{{ {name} }}}}` (known: {})",
                    VARIABLES.join(", ")
                ),
            );
        }
        Some(Spanned {
            value: text,
            pos: node.pos,
        })
    }

    fn values(&mut self, node: &Node, key: &str) -> Vec<Spanned<String>> {
        let Some(items) = node.as_seq() else {
            self.err(
                node.pos,
                format!(
                    "key `{key}`: expected a list of group values, found {}",
                    node.kind_name()
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                self.string(item, key).map(|value| Spanned {
                    value,
                    pos: item.pos,
                })
            })
            .collect()
    }

    fn chart(&mut self, node: &Node) -> Option<ChartEntry> {
        let Some(map) = node.as_map() else {
            self.err(
                node.pos,
                format!(
                    "charts: expected a mapping with a `measure` key, found {}",
                    node.kind_name()
                ),
            );
            return None;
        };
        self.keys(map, &CHART_KEYS, "charts: ");
        let mut entry = ChartEntry {
            // A mapping's own position is where its first value starts: show its first key's.
            pos: map.first().map_or(node.pos, |(k, _)| k.pos),
            ..ChartEntry::default()
        };
        let Some(measure) = node.get("measure") else {
            self.err(entry.pos, "charts: an entry without a `measure` key");
            return None;
        };
        entry.measure = Spanned {
            value: self.string(measure, "measure")?,
            pos: measure.pos,
        };
        for (k, v) in map {
            let key = k.scalar_text().unwrap_or("");
            match key {
                "kind" => match v.scalar_text() {
                    Some("line") => entry.kind = Kind::Line,
                    Some("deciles") => entry.kind = Kind::Deciles,
                    _ => self.err(v.pos, "key `kind`: expected `line` or `deciles`"),
                },
                "y" => match v.scalar_text() {
                    Some("count") => entry.y = Some(YKind::Count),
                    Some("rate") => entry.y = Some(YKind::Rate),
                    _ => self.err(v.pos, "key `y`: expected `count` or `rate`"),
                },
                "per" => match &v.value {
                    yaml::Value::Scalar(_, yaml::Scalar::Int(i)) if *i > 0 => {
                        entry.per = Some(*i as f64);
                    }
                    yaml::Value::Scalar(_, yaml::Scalar::Float(x)) if x.is_finite() && *x > 0.0 => {
                        entry.per = Some(*x);
                    }
                    _ => self.err(v.pos, "key `per`: expected a positive number"),
                },
                "file" => {
                    if let Some(file) = self.string(v, key) {
                        if let Err(problem) = check_file_name(&file) {
                            self.err(v.pos, format!("key `file`: {file:?} {problem}"));
                        }
                        entry.file = Some(Spanned {
                            value: file,
                            pos: v.pos,
                        });
                    }
                }
                "id" => {
                    if let Some(id) = self.string(v, key) {
                        if id.is_empty()
                            || !id
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                        {
                            self.err(v.pos, format!("key `id`: {id:?} must match [A-Za-z0-9_-]+"));
                        }
                        entry.id = Some(Spanned {
                            value: id,
                            pos: v.pos,
                        });
                    }
                }
                "title" => entry.title = self.string(v, key),
                "caption" => entry.caption = self.string(v, key),
                "heading" => entry.heading = self.string(v, key),
                "y_label" => entry.y_label = self.string(v, key),
                "legend" => entry.legend = self.string(v, key),
                "numerator_label" => entry.numerator_label = self.string(v, key),
                "denominator_label" => entry.denominator_label = self.string(v, key),
                "keep" | "drop" => {
                    if !matches!(entry.groups, GroupFilter::All) {
                        self.err(k.pos, "charts: give `keep` or `drop`, not both");
                    }
                    let values = self.values(v, key);
                    entry.groups = if key == "keep" {
                        GroupFilter::Keep(values)
                    } else {
                        GroupFilter::Drop(values)
                    };
                }
                _ => {}
            }
        }
        if entry.kind == Kind::Deciles && !matches!(entry.groups, GroupFilter::All) {
            self.err(
                entry.pos,
                "charts: a deciles chart shows no group, so it takes no `keep` or `drop`",
            );
        }
        Some(entry)
    }

    fn codelists(&mut self, node: &Node) -> Vec<CodelistEntry> {
        let Some(map) = node.as_map() else {
            self.err(
                node.pos,
                format!(
                    "key `codelists`: expected a mapping of codelist names, found {}",
                    node.kind_name()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in map {
            let name = Spanned {
                value: k.scalar_text().unwrap_or("").to_string(),
                pos: k.pos,
            };
            let mut entry = CodelistEntry {
                name,
                title: None,
                id: None,
            };
            match v.as_map() {
                Some(fields) => {
                    self.keys(fields, &CODELIST_KEYS, "codelists: ");
                    for (fk, fv) in fields {
                        match fk.scalar_text().unwrap_or("") {
                            "title" => entry.title = self.string(fv, "title"),
                            "id" => entry.id = self.string(fv, "id"),
                            _ => {}
                        }
                    }
                }
                None => self.err(
                    v.pos,
                    format!(
                        "codelists: `{}`: expected a mapping with `title` and `id`, found {}",
                        entry.name.value,
                        v.kind_name()
                    ),
                ),
            }
            out.push(entry);
        }
        out
    }
}

/// Whether `file` names a JPEG inside the output folder: relative, no `..`, `.jpeg` or `.jpg`.
fn check_file_name(file: &str) -> Result<(), &'static str> {
    let path = Path::new(file);
    if file.is_empty() {
        return Err("is empty");
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("is outside the output folder (use a relative name without `..`)");
    }
    let jpeg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jpeg") || e.eq_ignore_ascii_case("jpg"));
    if !jpeg {
        return Err("must end in .jpeg or .jpg");
    }
    Ok(())
}

/// `Err(name)` for the first `{{ name }}` that is not one of [`VARIABLES`].
fn check_variables(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Ok(());
        };
        let name = after[..end].trim();
        if !VARIABLES.contains(&name) {
            return Err(name.to_string());
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Replaces every `{{ name }}` of `text` by `value(name)` (names are checked when the file is
/// read).
pub fn expand(text: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&value(after[..end].trim()));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

impl Outputs {
    /// Parses the outputs file's `text`; `path` names it in diagnostics.
    pub fn parse(path: &Path, text: &str) -> Result<Outputs, OutputsError> {
        let (root, diagnostics) = yaml::parse(text);
        let mut r = Reader {
            diagnostics: diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        };
        let mut out = Outputs {
            path: path.to_path_buf(),
            ..Outputs::default()
        };
        match &root {
            None => {}
            Some(root) if root.is_null() => {}
            Some(root) => match root.as_map() {
                None => r.err(
                    root.pos,
                    format!(
                        "expected a mapping at the top level, found {}",
                        root.kind_name()
                    ),
                ),
                Some(map) => {
                    r.keys(map, &TOP_KEYS, "");
                    for (k, v) in map {
                        let key = k.scalar_text().unwrap_or("");
                        match key {
                            "title" => out.title = r.template(v, key),
                            "kicker" => out.kicker = r.template(v, key),
                            "intro" => out.intro = r.template(v, key),
                            "methods" => out.methods = r.template(v, key),
                            "numerator_label" => out.numerator_label = r.string(v, key),
                            "denominator_label" => out.denominator_label = r.string(v, key),
                            "redact_at_or_below" => match v.as_int() {
                                Some(i) if (0..=i64::from(u32::MAX)).contains(&i) => {
                                    out.redact_at_or_below = u32::try_from(i).ok();
                                }
                                _ => r.err(
                                    v.pos,
                                    "key `redact_at_or_below`: expected a whole number, 0 or more",
                                ),
                            },
                            "codelists" => out.codelists = r.codelists(v),
                            "charts" => match v.as_seq() {
                                Some(items) => {
                                    out.charts =
                                        Some(items.iter().filter_map(|i| r.chart(i)).collect());
                                }
                                None => r.err(
                                    v.pos,
                                    format!(
                                        "key `charts`: expected a list of charts, found {}",
                                        v.kind_name()
                                    ),
                                ),
                            },
                            _ => {}
                        }
                    }
                }
            },
        }
        if r.diagnostics.is_empty() {
            Ok(out)
        } else {
            let mut d = r.diagnostics;
            d.sort_by_key(|d| d.pos);
            Err(OutputsError(
                d.into_iter().map(|d| d.in_file(path)).collect(),
            ))
        }
    }

    /// Reads and parses the outputs file at `path`; `shown` names it in diagnostics.
    pub fn read(path: &Path, shown: &Path) -> Result<Outputs, OutputsError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            OutputsError(vec![Diagnostic::error(
                Pos::FILE,
                format!("cannot read the outputs file: {e}"),
            )
            .in_file(shown)])
        })?;
        Self::parse(shown, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Outputs, String> {
        Outputs::parse(Path::new("analysis/outputs.yaml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_every_key() {
        let o = parse(
            "title: T {{ first_month }}\nkicker: K\nintro: |\n  I\nmethods: M {{ threshold }}\n\
             redact_at_or_below: 7\nnumerator_label: n\ndenominator_label: d\n\
             codelists:\n  c: {title: C, id: o/c/1}\n\
             charts:\n  - measure: m\n    file: a.jpeg\n    y: count\n    per: 100\n    keep: [F, 1]\n\
             \x20 - measure: p\n    kind: deciles\n    id: p-1\n",
        )
        .unwrap();
        assert_eq!(o.title.unwrap().value, "T {{ first_month }}");
        assert_eq!(o.intro.unwrap().value, "I\n");
        assert_eq!(o.redact_at_or_below, Some(7));
        assert_eq!(o.codelists[0].id.as_deref(), Some("o/c/1"));
        let charts = o.charts.unwrap();
        assert_eq!(charts[0].y, Some(YKind::Count));
        assert_eq!(charts[0].per, Some(100.0));
        assert!(charts[0].groups.keeps("1") && !charts[0].groups.keeps("M"));
        assert_eq!(charts[1].kind, Kind::Deciles);
        assert_eq!(charts[1].measure.pos, Pos::new(17, 14));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("titel: x\ncharts:\n  - measure: m\n    colour: red\n").unwrap_err();
        assert_eq!(
            e,
            "analysis/outputs.yaml:1:1: unknown key `titel` (expected one of: title, kicker, intro, methods, redact_at_or_below, numerator_label, denominator_label, codelists, charts)\n\
             analysis/outputs.yaml:4:5: charts: unknown key `colour` (expected one of: measure, kind, file, title, caption, heading, id, y, per, y_label, legend, keep, drop, numerator_label, denominator_label)"
        );
        let e = parse("charts:\n  - measure: m\n    file: ../x.jpeg\n").unwrap_err();
        assert_eq!(
            e,
            "analysis/outputs.yaml:3:11: key `file`: \"../x.jpeg\" is outside the output folder (use a relative name without `..`)"
        );
        let e = parse("charts:\n  - measure: m\n    file: /tmp/x.jpeg\n").unwrap_err();
        assert!(
            e.contains("3:11: key `file`: \"/tmp/x.jpeg\" is outside"),
            "{e}"
        );
        let e = parse("charts:\n  - measure: m\n    file: x.png\n").unwrap_err();
        assert!(e.ends_with("must end in .jpeg or .jpg"), "{e}");
        let e = parse("intro: \"{{ period }}\"\n").unwrap_err();
        assert!(
            e.starts_with(
                "analysis/outputs.yaml:1:8: key `intro`: unknown template variable `{{ period }}`"
            ),
            "{e}"
        );
        let e = parse("charts:\n  - measure: m\n    keep: [a]\n    drop: [b]\n").unwrap_err();
        assert!(
            e.contains("4:5: charts: give `keep` or `drop`, not both"),
            "{e}"
        );
        let e = parse("charts:\n  - file: a.jpeg\n").unwrap_err();
        assert!(
            e.contains("2:5: charts: an entry without a `measure` key"),
            "{e}"
        );
        let e = parse("redact_at_or_below: -1\n").unwrap_err();
        assert!(e.contains("1:21:"), "{e}");
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.contains("duplicate key"), "{e}");
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap().charts, None);
        assert_eq!(parse("# nothing\n").unwrap().title, None);
    }

    #[test]
    fn expands_variables() {
        assert_eq!(
            expand("a {{ x }} b {{y}}{{ z", str::to_uppercase),
            "a X b Y{{ z"
        );
        assert_eq!(
            check_variables("{{ threshold }} {{ nope }}"),
            Err("nope".into())
        );
    }
}
