//! What a function of the vocabulary sees while it is built: its arguments (typed, checked,
//! each reported once with its position), the variables built before it, the codelists, and
//! the run-time inputs. What it returns: a [`Built`] variable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use query::model::{Comparison, FrameRef, Position};
use query::{Frame, Series, SeriesRef, Value};
use yaml::{Node, Pos, Scalar, Value as YValue};

use super::codelists::{CodeSystem, Codelist};
use super::dates::DateExpr;
use super::diag::{did_you_mean, known_list, Diags};
use super::model::{ColumnType, DateFormat, Derived};
use super::vocab::{ArgKind, FunctionSpec};

/// A variable as built: its type, its query-model value, and what other functions may ask of
/// it.
#[derive(Clone)]
pub(crate) struct Built {
    pub(crate) ty: ColumnType,
    pub(crate) format: Option<DateFormat>,
    /// The value, null where missing.
    pub(crate) value: SeriesRef,
    /// The missing value written for null (and seen by expressions).
    pub(crate) missing: Value,
    /// The date of the row behind the value (`include_date_of_match`, `date_of`).
    pub(crate) match_date: Option<SeriesRef>,
    /// Why `date_of` cannot be used on this variable (`None`: it can, when `match_date` is
    /// set).
    pub(crate) no_date_of: Option<String>,
    /// The rows a `numeric_value` is picked from, their sort keys and which end is taken
    /// (for `comparator_from` and the reference range functions, which read the same row).
    pub(crate) row: Option<(FrameRef, Vec<SeriesRef>, Position)>,
    /// What expectations dummy data computes.
    pub(crate) derived: Derived,
    /// The function's static window (for expectations dummy data).
    pub(crate) window: Option<(Option<DateExpr>, Option<DateExpr>)>,
}

impl Built {
    /// A variable with nothing but a value.
    pub(crate) fn new(ty: ColumnType, value: SeriesRef) -> Built {
        Built {
            ty,
            format: None,
            missing: missing_value(ty),
            value,
            match_date: None,
            no_date_of: None,
            row: None,
            derived: Derived::Sampled,
            window: None,
        }
    }

    /// A date variable written as `format`.
    pub(crate) fn date(value: SeriesRef, format: DateFormat) -> Built {
        let mut b = Built::new(ColumnType::Date, value);
        b.format = Some(format);
        b
    }

    pub(crate) fn with_match_date(mut self, d: SeriesRef) -> Built {
        self.match_date = Some(d);
        self
    }

    /// The value as the expression language sees it: missing values defaulted, dates as
    /// their formatted strings.
    pub(crate) fn expr_value(&self) -> SeriesRef {
        use query::model::Function;
        match self.ty {
            ColumnType::Date => {
                let f = self.format.unwrap_or(DateFormat::YearMonthDay);
                Series::coalesce(
                    &Series::function(Function::DateToStr(Arc::clone(&self.value), f.query())),
                    &Series::value(Value::str("")),
                )
            }
            _ => Series::coalesce(&self.value, &Series::value(self.missing.clone())),
        }
    }
}

/// The missing value of a column type (dates: null, written as an empty field).
pub(crate) fn missing_value(ty: ColumnType) -> Value {
    match ty {
        ColumnType::Bool => Value::Bool(false),
        ColumnType::Int => Value::Int(0),
        ColumnType::Float => Value::Float(0.0),
        ColumnType::Str => Value::str(""),
        ColumnType::Date => Value::Null,
    }
}

/// Run-time inputs of a compilation.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// `today` in date expressions.
    pub today: NaiveDate,
    /// The data source's `vmp_mapping` rows (id, prev_id), if it has one.
    pub vmp_mapping: Option<Vec<(String, String)>>,
    /// Whether files named by `with_value_from_file` / `which_exist_in_file` must exist now
    /// (when compiling to run; a check may come before the action that writes them).
    pub read_files: bool,
}

impl Runtime {
    /// For validating a definition: today's date, no vmp mapping, study files optional.
    pub fn check() -> Runtime {
        Runtime {
            today: chrono::Local::now().date_naive(),
            vmp_mapping: None,
            read_files: false,
        }
    }
}

/// A window: inclusive bounds, each absent or a date series.
#[derive(Clone, Default)]
pub(crate) struct Window {
    pub(crate) lo: Option<SeriesRef>,
    pub(crate) hi: Option<SeriesRef>,
}

impl Window {
    /// Whether no bound was given.
    pub(crate) fn is_all(&self) -> bool {
        self.lo.is_none() && self.hi.is_none()
    }

    /// The condition `lo <= date <= hi` on a date series (true when unbounded).
    pub(crate) fn contains(&self, date: &SeriesRef) -> SeriesRef {
        let mut parts = Vec::new();
        if let Some(lo) = &self.lo {
            parts.push(Series::compare(Comparison::Ge, date, lo));
        }
        if let Some(hi) = &self.hi {
            parts.push(Series::compare(Comparison::Le, date, hi));
        }
        Series::all_of(&parts)
    }

    /// `frame` restricted to rows whose `date_column` is in the window.
    pub(crate) fn filter(&self, frame: &FrameRef, root: &FrameRef, date_column: &str) -> FrameRef {
        if self.is_all() {
            return Arc::clone(frame);
        }
        let date = Series::column(root, date_column);
        Frame::filter(frame, &self.contains(&date))
    }
}

/// Shared state of one compilation.
pub(crate) struct Shared<'a> {
    pub(crate) diags: Diags,
    pub(crate) codelists: &'a BTreeMap<String, Codelist>,
    pub(crate) failed_codelists: &'a [String],
    pub(crate) built: HashMap<String, Built>,
    /// Variables that failed to build (their dependents are skipped silently).
    pub(crate) failed: HashSet<String>,
    pub(crate) runtime: &'a Runtime,
    pub(crate) project_dir: &'a std::path::Path,
    /// Static date expressions with their positions, checked for every index date.
    pub(crate) static_dates: Vec<(DateExpr, Pos)>,
    /// Static date expressions that must give one date (and the message when not).
    pub(crate) required_dates: Vec<(DateExpr, Pos, NaiveDate, &'static str)>,
    /// Every variable name, for messages.
    pub(crate) names: Vec<String>,
    /// Cache of table frames.
    tables: HashMap<&'static str, FrameRef>,
}

impl<'a> Shared<'a> {
    pub(crate) fn new(
        diags: Diags,
        codelists: &'a BTreeMap<String, Codelist>,
        failed_codelists: &'a [String],
        runtime: &'a Runtime,
        project_dir: &'a std::path::Path,
        names: Vec<String>,
    ) -> Self {
        Shared {
            diags,
            codelists,
            failed_codelists,
            built: HashMap::new(),
            failed: HashSet::new(),
            runtime,
            project_dir,
            static_dates: Vec::new(),
            required_dates: Vec::new(),
            names,
            tables: HashMap::new(),
        }
    }

    /// The frame of a contract table.
    pub(crate) fn table(&mut self, name: &'static str) -> FrameRef {
        Arc::clone(self.tables.entry(name).or_insert_with(|| {
            let schema = ehr::contract::table(name).expect("a contract table");
            Frame::table(schema)
        }))
    }
}

/// One function call being built.
pub(crate) struct Cx<'s, 'a, 'n> {
    pub(crate) shared: &'s mut Shared<'a>,
    pub(crate) spec: &'static FunctionSpec,
    /// `variable `x`: key `f``.
    pub(crate) prefix: String,
    pub(crate) func_pos: Pos,
    pub(crate) args: Vec<(&'n str, &'n Node, Pos)>,
    /// Inline helper variables (names), defined under `variables:`.
    pub(crate) helpers: Vec<String>,
    pub(crate) n_errors: usize,
    /// `categorised_as`'s mapping node.
    pub(crate) categories: Option<&'n Node>,
    /// The window's bounds as written, when none depends on a patient.
    pub(crate) window: Option<(Option<DateExpr>, Option<DateExpr>)>,
}

impl<'n> Cx<'_, '_, 'n> {
    /// Reports an error at `pos`.
    pub(crate) fn err(&mut self, pos: Pos, message: impl AsRef<str>) {
        let m = format!("{}: {}", self.prefix, message.as_ref());
        self.shared.diags.err(pos, m);
    }

    /// Reports an error about argument `arg` (at the argument, or the function key).
    pub(crate) fn arg_err(&mut self, arg: &str, message: impl AsRef<str>) {
        let pos = self.arg_node(arg).map_or(self.func_pos, |n| n.pos);
        self.err(pos, format!("argument `{arg}`: {}", message.as_ref()));
    }

    /// Whether errors were reported since the call began.
    pub(crate) fn failed(&self) -> bool {
        self.shared.diags.count() != self.n_errors
    }

    /// The node of an argument, if given and not null.
    pub(crate) fn arg_node(&self, name: &str) -> Option<&'n Node> {
        self.args
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, v, _)| *v)
            .filter(|v| !v.is_null())
    }

    /// Whether an argument was given (and is not null).
    pub(crate) fn has(&mut self, name: &'n str) -> bool {
        self.arg_node(name).is_some()
    }

    fn take(&mut self, name: &str) -> Option<&'n Node> {
        self.arg_node(name)
    }

    /// A boolean argument.
    pub(crate) fn bool(&mut self, name: &str, default: bool) -> Option<bool> {
        match self.take(name) {
            None => Some(default),
            Some(n) => match n.as_bool() {
                Some(b) => Some(b),
                None => {
                    self.arg_err(name, "expected true or false");
                    None
                }
            },
        }
    }

    /// An integer argument.
    pub(crate) fn int(&mut self, name: &str) -> Option<Option<i64>> {
        match self.take(name) {
            None => Some(None),
            Some(n) => match n.as_int() {
                Some(i) => Some(Some(i)),
                None => {
                    self.arg_err(
                        name,
                        format!("expected an integer, found {}", n.kind_name()),
                    );
                    None
                }
            },
        }
    }

    /// A string argument (integers written in decimal).
    pub(crate) fn str(&mut self, name: &str) -> Option<Option<String>> {
        match self.take(name) {
            None => Some(None),
            Some(n) => match &n.value {
                YValue::Scalar(s, Scalar::Str) => Some(Some(s.clone())),
                YValue::Scalar(_, Scalar::Int(i)) => Some(Some(i.to_string())),
                _ => {
                    self.arg_err(name, format!("expected a string, found {}", n.kind_name()));
                    None
                }
            },
        }
    }

    /// A string or a list of strings.
    pub(crate) fn str_list(&mut self, name: &str) -> Option<Option<Vec<String>>> {
        let Some(n) = self.take(name) else {
            return Some(None);
        };
        let prefix = self.prefix.clone();
        super::codelists::scalar_list(&mut self.shared.diags, &prefix, name, n).map(Some)
    }

    /// A choice among `options` (the first is the default when absent, unless `required`).
    pub(crate) fn choice(
        &mut self,
        name: &str,
        options: &[&'static str],
        required: bool,
    ) -> Option<&'static str> {
        match self.take(name) {
            None if required => {
                self.err(self.func_pos, format!("missing required argument `{name}`"));
                None
            }
            None => options.first().copied(),
            Some(n) => {
                let text = n.scalar_text().unwrap_or("");
                match options.iter().find(|o| **o == text) {
                    Some(o) => Some(o),
                    None => {
                        self.arg_err(
                            name,
                            format!(
                                "unknown value `{text}` (expected one of: {}){}",
                                options.join(", "),
                                did_you_mean(text, options.iter().copied())
                            ),
                        );
                        None
                    }
                }
            }
        }
    }

    /// `date_format` (with cohortextractor's deprecated `include_month` / `include_day` where
    /// the function takes them).
    pub(crate) fn date_format(&mut self, default: DateFormat) -> Option<DateFormat> {
        let legacy = self.spec.takes("include_day");
        let day = if legacy {
            self.bool("include_day", false)?
        } else {
            false
        };
        let month = if legacy {
            self.bool("include_month", false)?
        } else {
            false
        };
        match self.take("date_format") {
            None => Some(if day {
                DateFormat::YearMonthDay
            } else if month {
                DateFormat::YearMonth
            } else {
                default
            }),
            Some(n) => {
                if day || month {
                    self.arg_err(
                        "date_format",
                        "cannot be given together with `include_month` or `include_day`",
                    );
                    return None;
                }
                match n.scalar_text().and_then(DateFormat::parse) {
                    Some(f) => Some(f),
                    None => {
                        self.arg_err("date_format", "expected YYYY, YYYY-MM or YYYY-MM-DD");
                        None
                    }
                }
            }
        }
    }

    /// A date argument as a query-model date (`None`: reported error; `Some(None)`: absent).
    pub(crate) fn date(&mut self, name: &str) -> Option<Option<SeriesRef>> {
        match self.take(name) {
            None => Some(None),
            Some(n) => self.date_node(name, n).map(Some),
        }
    }

    /// A required date argument.
    pub(crate) fn required_date(&mut self, name: &str) -> Option<SeriesRef> {
        match self.date(name)? {
            Some(d) => Some(d),
            None => {
                self.err(self.func_pos, format!("missing required argument `{name}`"));
                None
            }
        }
    }

    /// A date expression node as a query-model date.
    pub(crate) fn date_node(&mut self, arg: &str, n: &Node) -> Option<SeriesRef> {
        let Some(text) = n.scalar_text().filter(|_| !n.is_null()) else {
            self.err(
                n.pos,
                format!(
                    "argument `{arg}`: expected a date expression, found {}",
                    n.kind_name()
                ),
            );
            return None;
        };
        let e = match DateExpr::parse(text) {
            Ok(e) => e,
            Err(msg) => {
                self.err(n.pos, format!("argument `{arg}`: {msg}"));
                return None;
            }
        };
        let mut variable_value = None;
        if let Some(var) = e.variable() {
            variable_value = Some(self.date_variable(arg, n.pos, var)?);
        } else {
            self.shared.static_dates.push((e.clone(), n.pos));
        }
        let today = self.shared.runtime.today;
        Some(e.series(today, &|_| {
            variable_value
                .clone()
                .unwrap_or_else(|| Series::null(query::Type::Date))
        }))
    }

    /// The value of a date variable used in a date expression.
    fn date_variable(&mut self, arg: &str, pos: Pos, var: &str) -> Option<SeriesRef> {
        let b = self.var(var, pos, &format!("argument `{arg}`"))??;
        if b.ty != ColumnType::Date {
            self.err(
                pos,
                format!("argument `{arg}`: Column '{var}' is not a date"),
            );
            return None;
        }
        match b.format.unwrap_or(DateFormat::YearMonthDay) {
            DateFormat::YearMonthDay => Some(Arc::clone(&b.value)),
            DateFormat::YearMonth => Some(Series::function(query::model::Function::FirstOfMonth(
                Arc::clone(&b.value),
            ))),
            DateFormat::Year => {
                self.err(
                    pos,
                    format!(
                        "argument `{arg}`: `{var}` has date_format YYYY: year-only date format can't be used in date expressions"
                    ),
                );
                None
            }
        }
    }

    /// A built variable by name. `Some(None)`: it failed (already reported; stay silent).
    /// `None`: unknown, reported here.
    pub(crate) fn var(&mut self, name: &str, pos: Pos, what: &str) -> Option<Option<Built>> {
        if let Some(b) = self.shared.built.get(name) {
            return Some(Some(b.clone()));
        }
        if self.shared.failed.contains(name) {
            return Some(None);
        }
        let known = self.shared.names.clone();
        self.err(
            pos,
            format!(
                "{what}: unknown variable `{name}` (known variables: {}){}",
                known_list(known.iter().map(String::as_str)),
                did_you_mean(name, known.iter().map(String::as_str))
            ),
        );
        None
    }

    /// The window arguments (`between`, `on_or_before`, `on_or_after`).
    pub(crate) fn window(&mut self) -> Option<Window> {
        let between = self.take("between");
        let before = self.take("on_or_before");
        let after = self.take("on_or_after");
        if between.is_some() && (before.is_some() || after.is_some()) {
            let given: Vec<&str> = [
                ("between", between),
                ("on_or_before", before),
                ("on_or_after", after),
            ]
            .iter()
            .filter(|(_, n)| n.is_some())
            .map(|(k, _)| *k)
            .collect();
            let pos = between.map_or(self.func_pos, |n| n.pos);
            self.err(
                pos,
                format!(
                    "only one of `between`, `on_or_before`, `on_or_after` may be given (found {})",
                    given.join(", ")
                ),
            );
            return None;
        }
        let exprs = |n: Option<&Node>| -> Option<Option<DateExpr>> {
            match n {
                None => Some(None),
                Some(n) => {
                    let e = DateExpr::parse(n.scalar_text()?).ok()?;
                    e.variable().is_none().then_some(Some(e))
                }
            }
        };
        self.window = match between.and_then(Node::as_seq) {
            Some([a, b]) => exprs(Some(a)).zip(exprs(Some(b))),
            Some(_) => None,
            None => exprs(after).zip(exprs(before)),
        };
        let mut w = Window::default();
        if let Some(n) = between {
            match n.as_seq() {
                Some([a, b]) => {
                    let a = self.date_node("between", a);
                    let b = self.date_node("between", b);
                    w.lo = Some(a?);
                    w.hi = Some(b?);
                }
                _ => {
                    self.err(
                        n.pos,
                        "argument `between`: expected a list of two dates [start, end]",
                    );
                    return None;
                }
            }
        }
        if let Some(n) = after {
            w.lo = Some(self.date_node("on_or_after", n)?);
        }
        if let Some(n) = before {
            w.hi = Some(self.date_node("on_or_before", n)?);
        }
        Some(w)
    }

    /// `find_first_match_in_period` / `find_last_match_in_period` (default last).
    pub(crate) fn find(&mut self) -> Option<Position> {
        let first = self.bool("find_first_match_in_period", false)?;
        let last = if self.spec.takes("find_last_match_in_period") {
            self.bool("find_last_match_in_period", false)?
        } else {
            false
        };
        if first && last {
            self.err(
                self.func_pos,
                "`find_first_match_in_period` and `find_last_match_in_period` cannot both be true",
            );
            return None;
        }
        Some(if first {
            Position::First
        } else {
            Position::Last
        })
    }

    /// A codelist argument whose system is one of `systems`. `Some(None)`: absent, or a
    /// codelist that failed to load (already reported).
    pub(crate) fn codelist(
        &mut self,
        name: &str,
        systems: &[CodeSystem],
    ) -> Option<Option<Codelist>> {
        let Some(n) = self.take(name) else {
            return Some(None);
        };
        let Some(cl_name) = n.scalar_text() else {
            self.arg_err(
                name,
                format!("expected a codelist name, found {}", n.kind_name()),
            );
            return None;
        };
        if self.shared.failed_codelists.iter().any(|f| f == cl_name) {
            return Some(None);
        }
        let Some(cl) = self.shared.codelists.get(cl_name) else {
            let mut known: Vec<&str> = self.shared.codelists.keys().map(String::as_str).collect();
            known.extend(self.shared.failed_codelists.iter().map(String::as_str));
            known.sort_unstable();
            let msg = format!(
                "unknown codelist `{cl_name}` (known codelists: {}){}",
                known_list(known.iter().copied()),
                did_you_mean(cl_name, known.iter().copied())
            );
            self.err(n.pos, msg);
            return None;
        };
        if !systems.contains(&cl.system) {
            let accepted: Vec<&str> = systems.iter().map(|s| s.name()).collect();
            let msg = format!(
                "argument `{name}`: codelist `{cl_name}` is {}, but `{}` accepts {} codelists",
                cl.system.name(),
                self.spec.name,
                accepted.join(" or ")
            );
            self.err(n.pos, msg);
            return None;
        }
        Some(Some(cl.clone()))
    }

    /// A required codelist argument.
    pub(crate) fn required_codelist(
        &mut self,
        name: &str,
        systems: &[CodeSystem],
    ) -> Option<Codelist> {
        if self.arg_node(name).is_none() {
            self.err(self.func_pos, format!("missing required argument `{name}`"));
            return None;
        }
        self.codelist(name, systems)?
    }

    /// The frame of a contract table.
    pub(crate) fn table(&mut self, name: &'static str) -> FrameRef {
        self.shared.table(name)
    }

    /// Whether the spec's argument `name` is of kind `kind`.
    #[allow(dead_code)]
    pub(crate) fn kind_of(&self, name: &str) -> Option<ArgKind> {
        self.spec.arg(name)
    }
}
