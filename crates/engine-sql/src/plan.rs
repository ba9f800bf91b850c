//! The compiler: a [`Dataset`] and its index dates to a [`Plan`], a list of SQL statements that
//! evaluates every index date at once.
//!
//! Plan shape (after ehrQL's):
//! 1. data the database needs from us, each a temporary table filled by COPY: string constants
//!    (`tmp_params`, one row), codelists (`tmp_codelist_N`), inline tables (`tmp_inline_N`);
//! 2. `tmp_index_dates`: one row per index date;
//! 3. `tmp_patients`: every `patient_id` of every table (and inline table) the dataset reads;
//! 4. the population's parts, then `tmp_population` (`patient_id`, `index_date`): the slots for
//!    which the population is true;
//! 5. one temporary table per aggregate, picked row, concatenation or exists-matching key set
//!    the columns need, keyed by `patient_id` (and `index_date` only when the index date is
//!    below it: index-independent parts are computed once), restricted to the population;
//! 6. the result: `tmp_population` LEFT JOINed to those tables in groups of at most
//!    [`MAX_JOINS`], ordered by index date and patient.
//!
//! How nodes map to SQL: a patient-level series is an expression over a *slot* (a patient id and
//! maybe an index date expression) plus the tables it LEFT JOINs on them; a row-level series is
//! an expression over the root table's row `r`. A frame's rows are `FROM root AS r` with the
//! index dates joined in (`b`) when its conditions need them, and its filter conditions in
//! WHERE. Aggregates are GROUP BY queries (Mode, episodes, spans, group maxima use window
//! functions), picks take `row_number() = 1` in their sort order, ExistsMatching is EXISTS over a
//! key table. Everything that differs between databases is asked of the [`Dialect`].

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use query::check::{
    check_dataset, inline_tables, tables_read, visit_series_children, walk, TypeOf,
};
use query::model::*;
use query::{Batch, ColumnData, Date, EngineError, StrColumn, Type, Value};

use crate::dialect::Dialect;

/// The most LEFT JOINs one query of the result makes (ehrQL found larger joins plan badly).
pub const MAX_JOINS: usize = 16;

/// A compiled dataset: statements to run in order, then the result query.
#[derive(Debug, Clone)]
pub struct Plan {
    /// A header comment (what was compiled, for whom).
    pub header: String,
    /// Statements, in order.
    pub steps: Vec<Step>,
    /// The result query.
    pub output: Output,
    /// The index dates, ascending.
    pub index_dates: Vec<Date>,
}

/// One statement of a plan.
#[derive(Debug, Clone)]
pub enum Step {
    /// A statement.
    Sql {
        /// What it computes and which dataset columns it serves (one line or more).
        comment: String,
        /// The statement, without a final `;`.
        sql: String,
    },
    /// A temporary table created by `create` and filled with `rows` (by COPY or bound
    /// parameters, never spliced into SQL).
    Load {
        /// What the data is.
        comment: String,
        /// The table's name.
        table: String,
        /// The statement creating it.
        create: String,
        /// Column names and types.
        columns: Vec<(String, Type)>,
        /// The rows, column by column.
        data: Vec<ColumnData>,
    },
}

/// The result query of a plan.
#[derive(Debug, Clone)]
pub struct Output {
    /// A comment naming the dataset columns behind each generated column name.
    pub comment: String,
    /// `SELECT patient_id, index_date, c1, …` over every index date, unordered: run through
    /// [`Output::for_dates`] for a run of index dates at a time.
    pub select: String,
    /// The dataset's columns: name and type, in order.
    pub columns: Vec<(String, Type)>,
}

impl Output {
    /// The result query for the index dates from `first` to `last` (the executor runs it for
    /// runs of dates small enough to hold, and orders each date's rows by patient itself: a
    /// sort of the whole result in the database would spill to disk).
    pub fn for_dates(&self, dialect: &dyn Dialect, first: Date, last: Date) -> String {
        let lit = |d: Date| {
            dialect
                .literal(&Value::Date(d), Type::Date)
                .unwrap_or_default()
        };
        if first == last {
            format!("{}\nWHERE p.index_date = {}", self.select, lit(first))
        } else {
            format!(
                "{}\nWHERE p.index_date BETWEEN {} AND {}",
                self.select,
                lit(first),
                lit(last)
            )
        }
    }
}

/// One index date's result rows (patient, values) as a [`Batch`] in patient order, as every
/// engine hands them over.
pub fn batch_by_patient(mut rows: Vec<(i64, Vec<Value>)>, column_types: &[Type]) -> Batch {
    rows.sort_unstable_by_key(|(pid, _)| *pid);
    let mut batch = Batch {
        patient_ids: Vec::with_capacity(rows.len()),
        columns: column_types.iter().map(|&t| ColumnData::new(t)).collect(),
    };
    for (pid, values) in rows {
        batch.patient_ids.push(pid);
        for (column, v) in batch.columns.iter_mut().zip(&values) {
            column.push(v);
        }
    }
    batch
}

type R<T> = Result<T, EngineError>;

fn internal(msg: impl Into<String>) -> EngineError {
    EngineError::Model(query::ModelError(msg.into()))
}

/// A name that may appear in an SQL comment: printable ASCII except `*` and `/`, at most 80
/// characters (names come from studies; comments must not be a way into the SQL text).
pub fn comment_safe(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(80)
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '*' && c != '/' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if name.chars().count() > 80 {
        out.push_str("...");
    }
    out
}

/// A materialised part: its table, and whether it is keyed by index date too.
#[derive(Debug, Clone)]
struct Source {
    table: String,
    by_idx: bool,
    step: usize,
}

/// Where patient-level expressions are evaluated: a patient id expression, maybe an index
/// date expression, maybe a current row, and the tables joined on them.
struct Ctx {
    pid: String,
    idx: Option<String>,
    row: Option<String>,
    /// (table, alias, keyed by index date) in join order.
    joins: Vec<(String, String, bool)>,
}

impl Ctx {
    fn new(pid: &str, idx: Option<&str>, row: Option<&str>) -> Self {
        Ctx {
            pid: pid.to_string(),
            idx: idx.map(str::to_string),
            row: row.map(str::to_string),
            joins: Vec::new(),
        }
    }

    /// Joins `table` (once) and gives its alias.
    fn join(&mut self, table: &str, alias: &str, by_idx: bool) -> R<String> {
        if by_idx && self.idx.is_none() {
            return Err(internal(format!(
                "{table} depends on the index date where none is bound"
            )));
        }
        if !self.joins.iter().any(|(t, _, _)| t == table) {
            self.joins
                .push((table.to_string(), alias.to_string(), by_idx));
        }
        Ok(alias.to_string())
    }

    fn join_sql(&self) -> String {
        let mut out = String::new();
        for (table, alias, by_idx) in &self.joins {
            let _ = write!(
                out,
                "\n  LEFT JOIN {table}{} ON {alias}.patient_id = {}",
                if table == alias {
                    String::new()
                } else {
                    format!(" AS {alias}")
                },
                self.pid
            );
            if *by_idx {
                if let Some(idx) = &self.idx {
                    let _ = write!(out, " AND {alias}.index_date = {idx}");
                }
            }
        }
        out
    }
}

/// The rows of a frame being compiled: `FROM root AS r` with the index dates bound if needed.
struct Rows {
    from: String,
    ctx: Ctx,
    wheres: Vec<String>,
}

impl Rows {
    /// `SELECT {select} FROM … WHERE … [GROUP BY …]`.
    fn render(&self, select: &str, extra_where: &[String], group_by: bool) -> String {
        let mut sql = format!("SELECT {select}\n{}{}", self.from, self.ctx.join_sql());
        let wheres: Vec<&String> = self.wheres.iter().chain(extra_where).collect();
        for (i, w) in wheres.iter().enumerate() {
            let _ = write!(sql, "\n{} {w}", if i == 0 { "WHERE" } else { "  AND" });
        }
        if group_by {
            let _ = write!(sql, "\nGROUP BY {}", self.keys_group());
        }
        sql
    }

    /// The key columns for a SELECT list.
    fn keys_select(&self) -> String {
        match &self.ctx.idx {
            Some(idx) => format!("{}, {idx} AS index_date", self.ctx.pid),
            None => self.ctx.pid.clone(),
        }
    }

    fn keys_group(&self) -> String {
        match &self.ctx.idx {
            Some(idx) => format!("{}, {idx}", self.ctx.pid),
            None => self.ctx.pid.clone(),
        }
    }
}

/// Compiles `dataset` for `index_dates` (ascending, distinct) in `dialect`.
pub fn compile(dataset: &Dataset, index_dates: &[Date], dialect: &dyn Dialect) -> R<Plan> {
    check_dataset(dataset)?;
    let mut c = Compiler::new(dialect, dataset);
    c.run(dataset, index_dates)
}

struct Compiler<'a> {
    d: &'a dyn Dialect,
    steps: Vec<Step>,
    users: Vec<Vec<String>>,
    types: TypeOf,
    idx_s: HashMap<*const Series, bool>,
    idx_f: HashMap<*const Frame, bool>,
    sources: HashMap<usize, Source>,
    pick_columns: HashMap<*const Frame, BTreeSet<String>>,
    codelists: HashMap<(*const Codelist, bool), (String, Vec<String>)>,
    patterns: HashMap<(*const Codelist, bool), Option<String>>,
    inline: HashMap<*const InlineTable, String>,
    strings: Vec<String>,
    counter: usize,
    restricted: bool,
    purpose: String,
    population_patients: bool,
}

impl<'a> Compiler<'a> {
    fn new(d: &'a dyn Dialect, dataset: &Dataset) -> Self {
        Compiler {
            d,
            steps: Vec::new(),
            users: Vec::new(),
            types: TypeOf::new(),
            idx_s: HashMap::new(),
            idx_f: HashMap::new(),
            sources: HashMap::new(),
            pick_columns: pick_columns(dataset),
            codelists: HashMap::new(),
            patterns: HashMap::new(),
            inline: HashMap::new(),
            strings: Vec::new(),
            counter: 0,
            restricted: false,
            purpose: String::new(),
            population_patients: false,
        }
    }

    fn name(&mut self, kind: &str) -> String {
        self.counter += 1;
        format!("tmp_{kind}_{}", self.counter)
    }

    fn push(&mut self, comment: String, sql: String) -> usize {
        self.steps.push(Step::Sql { comment, sql });
        self.users.push(vec![self.purpose.clone()]);
        self.steps.len() - 1
    }

    /// Creates a temporary table from a query, with statistics for the planner.
    fn table(&mut self, comment: String, name: &str, select: &str) -> usize {
        let step = self.push(comment, self.d.create_temp_table_as(name, select));
        if let Some(sql) = self.d.analyze(name) {
            self.push(String::new(), sql);
        }
        step
    }

    fn load(
        &mut self,
        comment: String,
        table: &str,
        columns: Vec<(String, Type)>,
        data: Vec<ColumnData>,
        key: bool,
    ) {
        let create = self.d.create_temp_table(table, &columns, key);
        self.steps.push(Step::Load {
            comment,
            table: table.to_string(),
            create,
            columns,
            data,
        });
        self.users.push(vec![self.purpose.clone()]);
    }

    fn used_by(&mut self, step: usize) {
        let purpose = self.purpose.clone();
        if let Some(u) = self.users.get_mut(step) {
            if !u.contains(&purpose) {
                u.push(purpose);
            }
        }
    }

    fn ty(&mut self, s: &SeriesRef) -> Type {
        self.types.of(s)
    }

    fn needs_idx(&mut self, s: &SeriesRef) -> bool {
        let key = Arc::as_ptr(s);
        if let Some(&b) = self.idx_s.get(&key) {
            return b;
        }
        let b = match &**s {
            Series::IndexDate => true,
            Series::Value { .. } => false,
            Series::Column { frame, .. } => frame.is_patient_level() && self.frame_needs_idx(frame),
            _ => {
                let (mut series, mut frames) = (Vec::new(), Vec::new());
                visit_series_children(s, &mut series, &mut frames);
                let mut b = false;
                for c in series {
                    b |= self.needs_idx(c);
                }
                for f in frames {
                    b |= self.frame_needs_idx(f);
                }
                b
            }
        };
        self.idx_s.insert(key, b);
        b
    }

    fn frame_needs_idx(&mut self, f: &FrameRef) -> bool {
        let key = Arc::as_ptr(f);
        if let Some(&b) = self.idx_f.get(&key) {
            return b;
        }
        let b = match &**f {
            Frame::Table(_) | Frame::Inline(_) => false,
            Frame::Concat { parts, .. } => {
                let mut b = false;
                for (p, series) in parts {
                    b |= self.frame_needs_idx(p);
                    for s in series {
                        b |= self.needs_idx(s);
                    }
                }
                b
            }
            Frame::Filter { source, condition } => {
                let a = self.frame_needs_idx(source);
                a | self.needs_idx(condition)
            }
            Frame::Pick {
                source, sort_by, ..
            } => {
                let mut b = self.frame_needs_idx(source);
                for s in sort_by {
                    b |= self.needs_idx(s);
                }
                b
            }
        };
        self.idx_f.insert(key, b);
        b
    }

    fn run(&mut self, dataset: &Dataset, index_dates: &[Date]) -> R<Plan> {
        let d = self.d;
        self.purpose = "index dates".into();
        self.table(
            format!("the {} index dates", index_dates.len()),
            "tmp_index_dates",
            &d.index_dates_select(index_dates),
        );

        // The population, over every patient and index date. When one of its conjuncts is an
        // Exists aggregate, the population starts from that aggregate's rows (the only slots
        // where it is true) instead of every patient on every date.
        self.purpose = "population".into();
        let population = &dataset.population;
        let needs = self.needs_idx(population);
        let mut parts = Vec::new();
        conjuncts(population, &mut parts);
        let base = parts.iter().position(|c| {
            matches!(
                &**c,
                Series::Aggregate {
                    function: Aggregate::Exists,
                    ..
                }
            )
        });
        let (mut from, idx) = match base {
            Some(k) => {
                let node = parts.remove(k);
                let Series::Aggregate { frame, function } = &*node else {
                    return Err(internal("not an aggregate"));
                };
                let src = self.aggregate(&node, frame, function)?;
                let from = format!("FROM {} AS p", src.table);
                if src.by_idx {
                    (from, Some("p.index_date"))
                } else if needs {
                    (
                        from + "\n  CROSS JOIN tmp_index_dates AS b",
                        Some("b.index_date"),
                    )
                } else {
                    (from, None)
                }
            }
            None if needs => {
                self.all_patients(dataset);
                (
                    "FROM tmp_patients AS p\n  CROSS JOIN tmp_index_dates AS b".to_string(),
                    Some("b.index_date"),
                )
            }
            None => {
                self.all_patients(dataset);
                ("FROM tmp_patients AS p".to_string(), None)
            }
        };
        let mut ctx = Ctx::new("p.patient_id", idx, None);
        let mut conds = Vec::new();
        for c in &parts {
            conds.push(self.expr(c, &mut ctx)?);
        }
        from.push_str(&ctx.join_sql());
        if !conds.is_empty() {
            let _ = write!(from, "\nWHERE {}", conds.join("\n  AND "));
        }
        match idx {
            Some(idx) => {
                self.table(
                    "the population: the patients and index dates for which it is true".into(),
                    "tmp_population",
                    &format!("SELECT p.patient_id, {idx} AS index_date\n{from}"),
                );
            }
            None => {
                self.table(
                    "the population (it does not depend on the index date): its patients".into(),
                    "tmp_population_patients",
                    &format!("SELECT p.patient_id\n{from}"),
                );
                self.population_patients = true;
                self.table(
                    "the population: its patients on every index date".into(),
                    "tmp_population",
                    "SELECT pp.patient_id, b.index_date\nFROM tmp_population_patients AS pp\n  CROSS JOIN tmp_index_dates AS b",
                );
            }
        }

        // The columns, restricted to the population.
        self.restricted = true;
        let mut compiled: Vec<(String, Ctx)> = Vec::new();
        let mut out_columns = Vec::new();
        for (name, s) in &dataset.columns {
            self.purpose = comment_safe(name);
            let mut ctx = Ctx::new("p.patient_id", Some("p.index_date"), None);
            let e = self.expr(s, &mut ctx)?;
            let ty = self.ty(s);
            compiled.push((d.cast(&e, ty), ctx));
            out_columns.push((name.clone(), ty));
        }
        let output = self.output(compiled, &out_columns)?;

        if !self.strings.is_empty() {
            let columns: Vec<(String, Type)> = (1..=self.strings.len())
                .map(|i| (format!("s{i}"), Type::Str))
                .collect();
            let data = self
                .strings
                .iter()
                .map(|s| {
                    let mut c = StrColumn::new();
                    c.push(Some(s));
                    ColumnData::Str(c)
                })
                .collect();
            let create = d.create_temp_table("tmp_params", &columns, false);
            self.steps.insert(
                0,
                Step::Load {
                    comment: format!(
                        "the string constant{} of the dataset ({}), one row",
                        if self.strings.len() == 1 { "" } else { "s" },
                        self.strings.len()
                    ),
                    table: "tmp_params".into(),
                    create,
                    columns,
                    data,
                },
            );
            self.users.insert(0, Vec::new());
        }
        // Name the dataset columns each step serves.
        for (step, users) in self.steps.iter_mut().zip(&self.users) {
            let users: Vec<&String> = users
                .iter()
                .filter(|u| !u.is_empty() && !matches!(u.as_str(), "index dates" | "patients"))
                .collect();
            if users.is_empty() {
                continue;
            }
            let list = users
                .iter()
                .map(|u| u.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            match step {
                Step::Sql { comment, .. } | Step::Load { comment, .. } if !comment.is_empty() => {
                    let _ = write!(comment, "\nused by: {list}");
                }
                _ => {}
            }
        }
        let header = format!(
            "dataset compiled for {}: {} index date{}{}, {} output column{}, tables in {}",
            d.name(),
            index_dates.len(),
            if index_dates.len() == 1 { "" } else { "s" },
            match (index_dates.first(), index_dates.last()) {
                (Some(a), Some(b)) => format!(" ({a} to {b})"),
                _ => String::new(),
            },
            out_columns.len(),
            if out_columns.len() == 1 { "" } else { "s" },
            d.source_description()
        );
        Ok(Plan {
            header,
            steps: std::mem::take(&mut self.steps),
            output,
            index_dates: index_dates.to_vec(),
        })
    }

    /// `tmp_patients`: every patient the dataset can see (only needed when the population does
    /// not start from an aggregate's rows).
    fn all_patients(&mut self, dataset: &Dataset) {
        let d = self.d;
        let purpose = std::mem::replace(&mut self.purpose, "patients".into());
        let mut parts: Vec<String> = tables_read(dataset)
            .iter()
            .map(|t| {
                format!(
                    "SELECT DISTINCT patient_id FROM {}",
                    d.source_table(&t.name)
                )
            })
            .collect();
        for t in inline_tables(dataset) {
            let name = self.inline_table(&t);
            parts.push(format!("SELECT DISTINCT patient_id FROM {name}"));
        }
        if parts.is_empty() {
            self.push(
                "every patient: none (the dataset reads no table)".into(),
                d.create_temp_table("tmp_patients", &[("patient_id".into(), Type::Int)], true),
            );
        } else {
            self.table(
                "every patient of every table the dataset reads".into(),
                "tmp_patients",
                &parts.join("\nUNION\n"),
            );
        }

        self.purpose = purpose;
    }

    /// The result: columns in groups of at most MAX_JOINS joins.
    fn output(&mut self, compiled: Vec<(String, Ctx)>, columns: &[(String, Type)]) -> R<Output> {
        let mut comment = String::from(
            "the result: one row per patient in the population and index date; run for runs of index dates\n(here all of them), each date's rows ordered by patient on the client",
        );
        for (i, (name, _)) in columns.iter().enumerate() {
            let _ = write!(comment, "\n  c{}: {}", i + 1, comment_safe(name));
        }
        // Group columns so that each group joins at most MAX_JOINS tables.
        let mut groups: Vec<(Vec<usize>, Ctx)> = Vec::new();
        for (i, (_, ctx)) in compiled.iter().enumerate() {
            let fits = groups.last().is_some_and(|(_, g)| {
                let mut tables: BTreeSet<&str> = g.joins.iter().map(|j| j.0.as_str()).collect();
                tables.extend(ctx.joins.iter().map(|j| j.0.as_str()));
                tables.len() <= MAX_JOINS
            });
            if !fits {
                groups.push((
                    Vec::new(),
                    Ctx::new("p.patient_id", Some("p.index_date"), None),
                ));
            }
            let (members, g) = groups.last_mut().expect("a group was just pushed");
            members.push(i);
            for j in &ctx.joins {
                g.join(&j.0, &j.1, j.2)?;
            }
        }
        let select_list = |members: &[usize], prefix: Option<&str>| -> String {
            let mut s = String::from("p.patient_id, p.index_date");
            for &i in members {
                match prefix {
                    None => {
                        let _ = write!(s, ",\n  {} AS c{}", compiled[i].0, i + 1);
                    }
                    Some(alias) => {
                        let _ = write!(s, ",\n  {alias}.c{} AS c{}", i + 1, i + 1);
                    }
                }
            }
            s
        };
        if groups.len() <= 1 {
            let (members, ctx) = groups.pop().unwrap_or_else(|| {
                (
                    Vec::new(),
                    Ctx::new("p.patient_id", Some("p.index_date"), None),
                )
            });
            let select = format!(
                "SELECT {}\nFROM tmp_population AS p{}",
                select_list(&members, None),
                ctx.join_sql()
            );
            return Ok(Output {
                comment,
                select,
                columns: columns.to_vec(),
            });
        }
        let mut final_from = String::from("FROM tmp_population AS p");
        for (g, (members, ctx)) in groups.iter().enumerate() {
            let name = format!("tmp_columns_{}", g + 1);
            self.purpose = members
                .iter()
                .map(|&i| comment_safe(&columns[i].0))
                .collect::<Vec<_>>()
                .join(", ");
            let select = format!(
                "SELECT {}\nFROM tmp_population AS p{}",
                select_list(members, None),
                ctx.join_sql()
            );
            self.table(
                format!("result columns, group {} of {}", g + 1, groups.len()),
                &name,
                &select,
            );
            let alias = format!("g{}", g + 1);
            let _ = write!(
                final_from,
                "\n  JOIN {name} AS {alias} ON {alias}.patient_id = p.patient_id AND {alias}.index_date = p.index_date"
            );
        }
        // Keep the dataset's column order.
        let mut ordered = String::from("p.patient_id, p.index_date");
        for i in 0..columns.len() {
            let g = groups
                .iter()
                .position(|(m, _)| m.contains(&i))
                .ok_or_else(|| internal("column without a group"))?;
            let _ = write!(ordered, ",\n  g{}.c{} AS c{}", g + 1, i + 1, i + 1);
        }
        Ok(Output {
            comment,
            select: format!("SELECT {ordered}\n{final_from}"),
            columns: columns.to_vec(),
        })
    }

    // --- data the database gets from us ------------------------------------------------------

    fn string_param(&mut self, s: &str) -> String {
        let i = match self.strings.iter().position(|x| x == s) {
            Some(i) => i,
            None => {
                self.strings.push(s.to_string());
                self.strings.len() - 1
            }
        };
        format!("(SELECT s{} FROM tmp_params)", i + 1)
    }

    fn inline_table(&mut self, t: &Arc<InlineTable>) -> String {
        let key = Arc::as_ptr(t);
        if let Some(name) = self.inline.get(&key) {
            return name.clone();
        }
        let name = self.name("inline");
        let mut columns = vec![(PATIENT_ID.to_string(), Type::Int)];
        columns.extend(t.schema.columns.iter().map(|c| (c.name.clone(), c.ty)));
        let mut data: Vec<ColumnData> =
            columns.iter().map(|(_, ty)| ColumnData::new(*ty)).collect();
        for (pid, values) in &t.rows {
            data[0].push(&Value::Int(*pid));
            for (col, v) in data[1..].iter_mut().zip(values) {
                col.push(v);
            }
        }
        self.load(
            format!(
                "inline table {} ({} rows)",
                comment_safe(&t.schema.name),
                t.rows.len()
            ),
            &name,
            columns,
            data,
            true,
        );
        self.inline.insert(key, name.clone());
        name
    }

    /// The table of a codelist's codes (ASCII upper case when `upper`), and its codes.
    fn codelist(&mut self, cl: &Arc<Codelist>, upper: bool) -> (String, Vec<String>) {
        let key = (Arc::as_ptr(cl), upper);
        if let Some(v) = self.codelists.get(&key) {
            return v.clone();
        }
        let name = self.name("codelist");
        let mut codes = StrColumn::new();
        let mut categories = StrColumn::new();
        let mut list: Vec<String> = Vec::new();
        if upper {
            let set: BTreeSet<String> = cl.codes.keys().map(|c| c.to_ascii_uppercase()).collect();
            for c in &set {
                codes.push(Some(c));
                categories.push(None);
            }
            list.extend(set);
        } else {
            for (c, cat) in &cl.codes {
                codes.push(Some(c));
                categories.push(cat.as_deref());
                list.push(c.clone());
            }
        }
        self.load(
            format!(
                "codelist {}: {} codes{}",
                comment_safe(&cl.name),
                list.len(),
                if upper { ", ASCII upper case" } else { "" }
            ),
            &name,
            vec![("code".into(), Type::Str), ("category".into(), Type::Str)],
            vec![ColumnData::Str(codes), ColumnData::Str(categories)],
            true,
        );
        let v = (name, list);
        self.codelists.insert(key, v.clone());
        v
    }

    /// A one-row table holding a regular expression matching any code of the codelist at the
    /// start of a string or after a character that is not an ASCII letter or digit (`None`
    /// for an empty codelist).
    fn token_pattern(&mut self, cl: &Arc<Codelist>, upper: bool) -> Option<String> {
        let key = (Arc::as_ptr(cl), upper);
        if let Some(v) = self.patterns.get(&key) {
            return v.clone();
        }
        let codes: BTreeSet<String> = cl
            .codes
            .keys()
            .map(|c| {
                if upper {
                    c.to_ascii_uppercase()
                } else {
                    c.clone()
                }
            })
            .collect();
        let result = if codes.is_empty() {
            None
        } else {
            let alternatives: Vec<String> = codes.iter().map(|c| self.d.regex_escape(c)).collect();
            let pattern = format!("(^|[^0-9A-Za-z])(?:{})", alternatives.join("|"));
            let name = self.name("codelist_pattern");
            let mut col = StrColumn::new();
            col.push(Some(&pattern));
            self.load(
                format!(
                    "codelist {}: a regular expression matching its {} codes at the start of a token{}",
                    comment_safe(&cl.name),
                    codes.len(),
                    if upper { ", ASCII upper case" } else { "" }
                ),
                &name,
                vec![("pattern".into(), Type::Str)],
                vec![ColumnData::Str(col)],
                false,
            );
            Some(name)
        };
        self.patterns.insert(key, result.clone());
        result
    }

    // --- frames ------------------------------------------------------------------------------

    /// The rows of `frame` (`force_idx`: bind the index dates even if the frame does not need
    /// them).
    fn rows(&mut self, frame: &FrameRef, force_idx: bool) -> R<Rows> {
        let mut conditions = Vec::new();
        let mut root = frame;
        while let Frame::Filter { source, condition } = &**root {
            conditions.push(Arc::clone(condition));
            root = source;
        }
        let (relation, dated) = match &**root {
            Frame::Table(schema) => (self.d.source_table(&schema.name), false),
            Frame::Inline(t) => (self.inline_table(t), false),
            Frame::Concat { .. } => {
                let s = self.concat(root)?;
                (s.table, s.by_idx)
            }
            Frame::Pick { .. } => {
                let s = self.pick(root)?;
                (s.table, s.by_idx)
            }
            Frame::Filter { .. } => return Err(internal("filter root")),
        };
        let needs = force_idx || self.frame_needs_idx(frame);
        let mut from = format!("FROM {relation} AS r");
        let mut wheres = Vec::new();
        let idx = if dated {
            Some("r.index_date")
        } else if needs {
            if self.restricted {
                from.push_str("\n  JOIN tmp_population AS b ON b.patient_id = r.patient_id");
            } else {
                from.push_str("\n  CROSS JOIN tmp_index_dates AS b");
            }
            Some("b.index_date")
        } else {
            if self.restricted {
                self.ensure_population_patients();
                wheres.push(
                    "r.patient_id IN (SELECT patient_id FROM tmp_population_patients)".to_string(),
                );
            }
            None
        };
        let mut ctx = Ctx::new("r.patient_id", idx, Some("r"));
        // A row is kept when every condition is true: top-level ANDs become WHERE lines.
        let mut flat = Vec::new();
        for c in conditions.iter().rev() {
            conjuncts(c, &mut flat);
        }
        for c in flat {
            let e = self.expr(&c, &mut ctx)?;
            wheres.push(e);
        }
        Ok(Rows { from, ctx, wheres })
    }

    fn ensure_population_patients(&mut self) {
        if !self.population_patients {
            self.population_patients = true;
            let purpose = std::mem::replace(&mut self.purpose, "population".into());
            self.table(
                "the patients in the population on any index date".into(),
                "tmp_population_patients",
                "SELECT DISTINCT patient_id FROM tmp_population",
            );
            self.purpose = purpose;
        }
    }

    fn describe(&self, frame: &FrameRef) -> String {
        match &**frame.root() {
            Frame::Table(t) => comment_safe(&t.name),
            Frame::Inline(t) => format!("inline table {}", comment_safe(&t.schema.name)),
            Frame::Concat { .. } => "a concatenation".into(),
            Frame::Pick { .. } => "a picked row".into(),
            Frame::Filter { .. } => "rows".into(),
        }
    }

    /// Records the materialised table of the node `key`, so later uses join it.
    fn remember(&mut self, key: usize, table: String, by_idx: bool, step: usize) -> Source {
        let s = Source {
            table,
            by_idx,
            step,
        };
        self.sources.insert(key, s.clone());
        s
    }

    fn per(by_idx: bool) -> &'static str {
        if by_idx {
            "per patient and index date"
        } else {
            "per patient"
        }
    }

    fn concat(&mut self, frame: &FrameRef) -> R<Source> {
        let key = Arc::as_ptr(frame) as usize;
        if let Some(s) = self.sources.get(&key).cloned() {
            self.used_by(s.step);
            return Ok(s);
        }
        let Frame::Concat { columns, parts } = &**frame else {
            return Err(internal("not a concat"));
        };
        let by_idx = self.frame_needs_idx(frame);
        let mut selects = Vec::new();
        for (part, series) in parts {
            let mut rows = self.rows(part, by_idx)?;
            let mut list = rows.keys_select();
            for (s, (name, _)) in series.iter().zip(columns) {
                let e = self.expr(s, &mut rows.ctx)?;
                let _ = write!(list, ", {e} AS {}", self.d.quote_ident(name));
            }
            selects.push(rows.render(&list, &[], false));
        }
        let table = self.name("concat");
        let step = self.table(
            format!(
                "the rows of {} frames, concatenated ({})",
                parts.len(),
                Self::per(by_idx)
            ),
            &table,
            &selects.join("\nUNION ALL\n"),
        );
        Ok(self.remember(key, table, by_idx, step))
    }

    fn pick(&mut self, frame: &FrameRef) -> R<Source> {
        let key = Arc::as_ptr(frame) as usize;
        if let Some(s) = self.sources.get(&key).cloned() {
            self.used_by(s.step);
            return Ok(s);
        }
        let Frame::Pick {
            source,
            sort_by,
            position,
        } = &**frame
        else {
            return Err(internal("not a pick"));
        };
        let by_idx = self.frame_needs_idx(frame);
        let mut rows = self.rows(source, by_idx)?;
        let columns: Vec<String> = self
            .pick_columns
            .get(&Arc::as_ptr(frame))
            .map(|c| c.iter().cloned().collect())
            .unwrap_or_default();
        let mut keys = Vec::new();
        for k in sort_by {
            let e = self.expr(k, &mut rows.ctx)?;
            let ty = self.ty(k);
            keys.push(self.d.sort_key(&e, ty, *position == Position::Last));
        }
        let quoted: Vec<String> = columns.iter().map(|c| self.d.quote_ident(c)).collect();
        let mut inner = rows.keys_select();
        for q in &quoted {
            let _ = write!(inner, ", r.{q}");
        }
        let _ = write!(
            inner,
            ",\n  row_number() OVER (PARTITION BY {}{}) AS q_rank",
            rows.keys_group(),
            if keys.is_empty() {
                String::new()
            } else {
                format!(" ORDER BY {}", keys.join(", "))
            }
        );
        let mut outer = String::from("patient_id");
        if by_idx {
            outer.push_str(", index_date");
        }
        for q in &quoted {
            let _ = write!(outer, ", {q}");
        }
        let select = format!(
            "SELECT {outer}\nFROM (\n{}\n) AS s\nWHERE q_rank = 1",
            indent(&rows.render(&inner, &[], false))
        );
        let table = self.name("pick");
        let step = self.table(
            format!(
                "the {} row of {} in sort order, {}",
                match position {
                    Position::First => "first",
                    Position::Last => "last",
                },
                self.describe(source),
                Self::per(by_idx)
            ),
            &table,
            &select,
        );
        Ok(self.remember(key, table, by_idx, step))
    }

    /// The key table of an ExistsMatching: distinct (patient, [index date], key).
    fn match_keys(
        &mut self,
        node: &SeriesRef,
        frame: &FrameRef,
        key_series: &SeriesRef,
    ) -> R<Source> {
        let key = Arc::as_ptr(node) as usize;
        if let Some(s) = self.sources.get(&key).cloned() {
            self.used_by(s.step);
            return Ok(s);
        }
        let by_idx = self.frame_needs_idx(frame) || self.needs_idx(key_series);
        let mut rows = self.rows(frame, by_idx)?;
        let k = self.expr(key_series, &mut rows.ctx)?;
        let select = rows.render(
            &format!("DISTINCT {}, {k} AS key", rows.keys_select()),
            &[format!("{k} IS NOT NULL")],
            false,
        );
        let table = self.name("match");
        let step = self.table(
            format!(
                "the keys of {} looked up by a row-by-row match, {}",
                self.describe(frame),
                Self::per(by_idx)
            ),
            &table,
            &select,
        );
        let cols: &[&str] = if by_idx {
            &["patient_id", "index_date", "key"]
        } else {
            &["patient_id", "key"]
        };
        if let Some(sql) = self.d.create_index(&table, cols) {
            self.push(String::new(), sql);
        }
        Ok(self.remember(key, table, by_idx, step))
    }

    // --- aggregates --------------------------------------------------------------------------

    fn aggregate(&mut self, node: &SeriesRef, frame: &FrameRef, function: &Aggregate) -> R<Source> {
        let key = Arc::as_ptr(node) as usize;
        if let Some(s) = self.sources.get(&key).cloned() {
            self.used_by(s.step);
            return Ok(s);
        }
        let by_idx = self.needs_idx(node);
        let d = self.d;
        let what = self.describe(frame);
        let (kind, select) = match function {
            Aggregate::SpanCovered {
                start,
                end,
                from,
                to,
            } => {
                let rows_idx =
                    self.frame_needs_idx(frame) || self.needs_idx(start) || self.needs_idx(end);
                let mut rows = self.rows(frame, rows_idx)?;
                let s = self.expr(start, &mut rows.ctx)?;
                let e = self.expr(end, &mut rows.ctx)?;
                let spans = rows.render(
                    &format!("{}, {s} AS s, {e} AS e", rows.keys_select()),
                    &[format!("{s} IS NOT NULL")],
                    false,
                );
                let part = if rows_idx {
                    "patient_id, index_date"
                } else {
                    "patient_id"
                };
                let numbered = format!(
                    "SELECT {part}, s, e, row_number() OVER (PARTITION BY {part} ORDER BY s, e) AS n\nFROM q_spans"
                );
                let before = format!(
                    "OVER (PARTITION BY {part} ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
                );
                let marked = format!(
                    "SELECT {part}, s, e, n,\n  CASE WHEN count(*) {before} = 0\n    OR (NOT {} {before} AND s > max(e) {before})\n  THEN 1 ELSE 0 END AS new_island\nFROM q_numbered",
                    d.bool_any("e IS NULL")
                );
                let islands = format!(
                    "SELECT {part}, s, e,\n  sum(new_island) OVER (PARTITION BY {part} ORDER BY n ROWS UNBOUNDED PRECEDING) AS island\nFROM q_marked"
                );
                let merged = format!(
                    "SELECT {part}, min(s) AS s, max(e) AS e, {} AS open\nFROM q_islands\nGROUP BY {part}, island",
                    d.bool_any("e IS NULL")
                );
                // The covering test, per slot.
                let (from_sql, idx) = if rows_idx {
                    ("FROM q_merged AS i".to_string(), Some("i.index_date"))
                } else if by_idx {
                    (
                        if self.restricted {
                            "FROM q_merged AS i\n  JOIN tmp_population AS b ON b.patient_id = i.patient_id"
                        } else {
                            "FROM q_merged AS i\n  CROSS JOIN tmp_index_dates AS b"
                        }
                        .to_string(),
                        Some("b.index_date"),
                    )
                } else {
                    ("FROM q_merged AS i".to_string(), None)
                };
                let mut ctx = Ctx::new("i.patient_id", idx, None);
                let f = self.expr(from, &mut ctx)?;
                let t = self.expr(to, &mut ctx)?;
                let keys = match idx {
                    Some(i) => format!("i.patient_id, {i} AS index_date"),
                    None => "i.patient_id".into(),
                };
                let group = match idx {
                    Some(i) => format!("i.patient_id, {i}"),
                    None => "i.patient_id".into(),
                };
                let select = format!(
                    "WITH q_spans AS (\n{}\n),\nq_numbered AS (\n{}\n),\nq_marked AS (\n{}\n),\nq_islands AS (\n{}\n),\nq_merged AS (\n{}\n)\nSELECT {keys}, {} AS value\n{from_sql}{}\nGROUP BY {group}",
                    indent(&spans),
                    indent(&numbered),
                    indent(&marked),
                    indent(&islands),
                    indent(&merged),
                    d.bool_any(&format!("i.s <= {f} AND (i.open OR i.e > {t})")),
                    ctx.join_sql()
                );
                ("whether the merged spans cover a period", select)
            }
            _ => {
                let mut rows = self.rows(frame, by_idx)?;
                let keys = rows.keys_select();
                match function {
                    Aggregate::Exists => (
                        "exists",
                        rows.render(&format!("{keys}, TRUE AS value"), &[], true),
                    ),
                    Aggregate::Count => (
                        "count",
                        rows.render(&format!("{keys}, count(*) AS value"), &[], true),
                    ),
                    Aggregate::Min(x) | Aggregate::Max(x) => {
                        let max = matches!(function, Aggregate::Max(_));
                        let ty = self.ty(x);
                        let e = self.expr(x, &mut rows.ctx)?;
                        let agg = d.min_max(&e, ty, max);
                        (
                            if max { "max" } else { "min" },
                            rows.render(&format!("{keys}, {agg} AS value"), &[], true),
                        )
                    }
                    Aggregate::Sum(x) => {
                        let ty = self.ty(x);
                        let e = self.expr(x, &mut rows.ctx)?;
                        (
                            "sum",
                            rows.render(
                                &format!("{keys}, {} AS value", d.cast(&format!("sum({e})"), ty)),
                                &[],
                                true,
                            ),
                        )
                    }
                    Aggregate::Mean(x) => {
                        let e = self.expr(x, &mut rows.ctx)?;
                        let agg = format!("avg({})", d.cast(&e, Type::Float));
                        (
                            "mean",
                            rows.render(&format!("{keys}, {agg} AS value"), &[], true),
                        )
                    }
                    Aggregate::CountDistinct(x) => {
                        let e = self.expr(x, &mut rows.ctx)?;
                        (
                            "count of distinct values",
                            rows.render(
                                &format!("{keys}, count(DISTINCT {e}) AS value"),
                                &[],
                                true,
                            ),
                        )
                    }
                    Aggregate::Mode(x) => {
                        let ty = self.ty(x);
                        let e = self.expr(x, &mut rows.ctx)?;
                        let counted = rows.render(
                            &format!("{keys}, {e} AS value, count(*) AS n"),
                            &[format!("{e} IS NOT NULL")],
                            false,
                        ) + &format!("\nGROUP BY {}, {e}", rows.keys_group());
                        let part = if by_idx {
                            "patient_id, index_date"
                        } else {
                            "patient_id"
                        };
                        let select = format!(
                            "SELECT {part}, value\nFROM (\n  SELECT {part}, value,\n    row_number() OVER (PARTITION BY {part} ORDER BY n DESC, {} DESC) AS q_rank\n  FROM (\n{}\n  ) AS counted\n) AS ranked\nWHERE q_rank = 1",
                            d.ordered("value", ty),
                            indent(&indent(&counted))
                        );
                        ("most frequent value", select)
                    }
                    Aggregate::CountEpisodes { date, max_gap_days } => {
                        let e = self.expr(date, &mut rows.ctx)?;
                        let inner = rows.render(
                            &format!(
                                "{keys}, {e} AS d,\n  lag({e}) OVER (PARTITION BY {} ORDER BY {e}) AS previous",
                                rows.keys_group()
                            ),
                            &[format!("{e} IS NOT NULL")],
                            false,
                        );
                        let part = if by_idx {
                            "patient_id, index_date"
                        } else {
                            "patient_id"
                        };
                        let select = format!(
                            "SELECT {part}, sum(CASE WHEN previous IS NULL OR {} > {max_gap_days} THEN 1 ELSE 0 END) AS value\nFROM (\n{}\n) AS dated\nGROUP BY {part}",
                            d.days_between("previous", "d"),
                            indent(&inner)
                        );
                        ("number of episodes", select)
                    }
                    Aggregate::SumOfGroupMax { key, value, add } => {
                        let k = self.expr(key, &mut rows.ctx)?;
                        let v = self.expr(value, &mut rows.ctx)?;
                        let inner = rows.render(&format!("{keys}, max({v}) AS m"), &[], false)
                            + &format!("\nGROUP BY {}, {k}", rows.keys_group());
                        let part = if by_idx {
                            "patient_id, index_date"
                        } else {
                            "patient_id"
                        };
                        let add = d.literal(&Value::Int(*add), Type::Int).unwrap_or_default();
                        let select = format!(
                            "SELECT {part}, {} AS value\nFROM (\n{}\n) AS groups\nWHERE m IS NOT NULL\nGROUP BY {part}",
                            d.cast(&format!("sum(m + {add})"), Type::Int),
                            indent(&inner)
                        );
                        ("sum of group maxima", select)
                    }
                    Aggregate::SpanCovered { .. } => unreachable!("handled above"),
                }
            }
        };
        let table = self.name("agg");
        let step = self.table(
            format!("{kind} of {what}, {}", Self::per(by_idx)),
            &table,
            &select,
        );
        Ok(self.remember(key, table, by_idx, step))
    }

    // --- series ------------------------------------------------------------------------------

    /// The SQL of a series in `ctx` (row-level series need `ctx.row`).
    fn expr(&mut self, s: &SeriesRef, ctx: &mut Ctx) -> R<String> {
        let d = self.d;
        Ok(match &**s {
            Series::Value { value, ty } => match d.literal(value, *ty) {
                Some(l) => l,
                None => self.string_param(value.as_str().unwrap_or_default()),
            },
            Series::IndexDate => ctx
                .idx
                .clone()
                .ok_or_else(|| internal("the index date is used where none is bound"))?,
            Series::Column { frame, column } => {
                if frame.is_patient_level() {
                    self.patient_column(frame, column, ctx)?
                } else {
                    let row = ctx
                        .row
                        .clone()
                        .ok_or_else(|| internal("a row-level column outside its frame"))?;
                    if column == PATIENT_ID {
                        format!("{row}.patient_id")
                    } else {
                        format!("{row}.{}", d.quote_ident(column))
                    }
                }
            }
            Series::Aggregate { frame, function } => {
                let src = self.aggregate(s, frame, function)?;
                let alias = ctx.join(&src.table, &src.table, src.by_idx)?;
                let default = match function {
                    Aggregate::Exists | Aggregate::SpanCovered { .. } => Some("FALSE".to_string()),
                    Aggregate::Count
                    | Aggregate::CountDistinct(_)
                    | Aggregate::CountEpisodes { .. }
                    | Aggregate::SumOfGroupMax { .. } => d.literal(&Value::Int(0), Type::Int),
                    _ => None,
                };
                match default {
                    Some(v) => format!("COALESCE({alias}.value, {v})"),
                    None => format!("{alias}.value"),
                }
            }
            Series::Function(f) => self.function(s, f, ctx)?,
        })
    }

    fn patient_column(&mut self, frame: &FrameRef, column: &str, ctx: &mut Ctx) -> R<String> {
        let d = self.d;
        let col = if column == PATIENT_ID {
            "patient_id".to_string()
        } else {
            d.quote_ident(column)
        };
        Ok(match &**frame {
            Frame::Table(schema) => {
                let table = d.source_table(&schema.name);
                let alias = ctx.join(
                    &table,
                    &d.quote_ident(&format!("src_{}", schema.name)),
                    false,
                )?;
                format!("{alias}.{col}")
            }
            Frame::Inline(t) => {
                let table = self.inline_table(t);
                let alias = ctx.join(&table, &table, false)?;
                format!("{alias}.{col}")
            }
            Frame::Pick { .. } => {
                let src = self.pick(frame)?;
                let alias = ctx.join(&src.table, &src.table, src.by_idx)?;
                format!("{alias}.{col}")
            }
            Frame::Filter { source, condition } => {
                let inner = self.patient_column(source, column, ctx)?;
                let cond = self.expr(condition, ctx)?;
                format!("CASE WHEN {cond} THEN {inner} END")
            }
            Frame::Concat { .. } => return Err(internal("a concat is not patient-level")),
        })
    }

    fn function(&mut self, node: &SeriesRef, f: &Function, ctx: &mut Ctx) -> R<String> {
        let d = self.d;
        Ok(match f {
            Function::Not(a) => format!("(NOT {})", self.expr(a, ctx)?),
            Function::And(a, b) => format!("({} AND {})", self.expr(a, ctx)?, self.expr(b, ctx)?),
            Function::Or(a, b) => format!("({} OR {})", self.expr(a, ctx)?, self.expr(b, ctx)?),
            Function::IsNull(a) => format!("({} IS NULL)", self.expr(a, ctx)?),
            Function::Compare(op, a, b) => {
                let (ta, tb) = (self.ty(a), self.ty(b));
                let (mut x, mut y) = (self.expr(a, ctx)?, self.expr(b, ctx)?);
                if ta != tb {
                    x = d.cast(&x, Type::Float);
                    y = d.cast(&y, Type::Float);
                }
                let sym = match op {
                    Comparison::Eq => "=",
                    Comparison::Ne => "<>",
                    Comparison::Lt => "<",
                    Comparison::Le => "<=",
                    Comparison::Gt => ">",
                    Comparison::Ge => ">=",
                };
                if !matches!(op, Comparison::Eq | Comparison::Ne) {
                    x = d.ordered(&x, ta);
                }
                format!("({x} {sym} {y})")
            }
            Function::Arithmetic(op, a, b) => {
                let (ta, tb) = (self.ty(a), self.ty(b));
                let (mut x, mut y) = (self.expr(a, ctx)?, self.expr(b, ctx)?);
                let int = *op != Arithmetic::Div && ta == Type::Int && tb == Type::Int;
                if !int {
                    if ta != Type::Float {
                        x = d.cast(&x, Type::Float);
                    }
                    if tb != Type::Float {
                        y = d.cast(&y, Type::Float);
                    }
                }
                match op {
                    Arithmetic::Add => format!("({x} + {y})"),
                    Arithmetic::Sub => format!("({x} - {y})"),
                    Arithmetic::Mul => format!("({x} * {y})"),
                    Arithmetic::Div => d.divide(&x, &y),
                }
            }
            Function::Negate(a) => format!("(-({}))", self.expr(a, ctx)?),
            Function::Round { value, digits } => {
                let ty = self.ty(value);
                let mut x = self.expr(value, ctx)?;
                if ty != Type::Float {
                    x = d.cast(&x, Type::Float);
                }
                d.round_half_away(&x, *digits)
            }
            Function::ToFloat(a) => {
                let x = self.expr(a, ctx)?;
                d.cast(&x, Type::Float)
            }
            Function::IntToStr(a) => {
                let x = self.expr(a, ctx)?;
                d.cast(&x, Type::Str)
            }
            Function::Str(func, a) => {
                let x = self.expr(a, ctx)?;
                match func {
                    StrFunction::Upper => d.ascii_upper(&x),
                    StrFunction::TrimEnd => d.trim_end(&x),
                    StrFunction::Left(n) => d.left(&x, *n),
                }
            }
            Function::InCodelist {
                code,
                codelist,
                rule,
            } => {
                let v = self.expr(code, ctx)?;
                self.in_codelist(&v, codelist, *rule)
            }
            Function::CodelistCategory { code, codelist } => {
                let v = self.expr(code, ctx)?;
                let (table, _) = self.codelist(codelist, false);
                format!("(SELECT c.category FROM {table} AS c WHERE c.code = {v})")
            }
            Function::DateAdd { date, amount, unit } => {
                let x = self.expr(date, ctx)?;
                match unit {
                    DateUnit::Days => d.add_days(&x, *amount),
                    DateUnit::Months => d.add_months(&x, *amount),
                    DateUnit::Years => d.add_months(&x, amount.saturating_mul(12)),
                }
            }
            Function::FirstOfMonth(a) => d.first_of_month(&self.expr(a, ctx)?),
            Function::FirstOfYear(a) => d.first_of_year(&self.expr(a, ctx)?),
            Function::DatePart(part, a) => d.date_part(*part, &self.expr(a, ctx)?),
            Function::YearsBetween(a, b) => {
                let (x, y) = (self.expr(a, ctx)?, self.expr(b, ctx)?);
                d.years_between(&x, &y)
            }
            Function::DateToStr(a, format) => d.date_to_str(&self.expr(a, ctx)?, *format),
            Function::Case { cases, default } => {
                let mut out = String::from("CASE");
                for (c, v) in cases {
                    let c = self.expr(c, ctx)?;
                    let v = self.expr(v, ctx)?;
                    let _ = write!(out, " WHEN {c} THEN {v}");
                }
                if let Some(def) = default {
                    let _ = write!(out, " ELSE {}", self.expr(def, ctx)?);
                }
                out.push_str(" END");
                out
            }
            Function::Coalesce(xs) | Function::Least(xs) | Function::Greatest(xs) => {
                let ty = self.ty(node);
                let mut args = Vec::new();
                for x in xs {
                    args.push(self.expr(x, ctx)?);
                }
                match f {
                    Function::Coalesce(_) => format!("COALESCE({})", args.join(", ")),
                    Function::Least(_) => d.least_greatest(&args, ty, false),
                    _ => d.least_greatest(&args, ty, true),
                }
            }
            Function::ExistsMatching { frame, key, value } => {
                let src = self.match_keys(node, frame, key)?;
                let v = self.expr(value, ctx)?;
                self.counter += 1;
                let m = format!("m{}", self.counter);
                let mut cond = format!("{m}.patient_id = {}", ctx.pid);
                if src.by_idx {
                    let idx = ctx
                        .idx
                        .clone()
                        .ok_or_else(|| internal("exists-matching needs the index date"))?;
                    let _ = write!(cond, " AND {m}.index_date = {idx}");
                }
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {m} WHERE {cond} AND {m}.key = {v})",
                    src.table
                )
            }
        })
    }

    /// `v` (a string expression) matched against a codelist exactly as
    /// `query::scalar::CodeMatcher` does.
    fn in_codelist(&mut self, v: &str, cl: &Arc<Codelist>, rule: MatchRule) -> String {
        let d = self.d;
        let upper = rule.ascii_case_insensitive;
        let norm = if upper {
            d.ascii_upper(v)
        } else {
            v.to_string()
        };
        match rule.kind {
            MatchKind::Exact => {
                let (table, codes) = self.codelist(cl, upper);
                if codes.is_empty() {
                    format!("CASE WHEN {v} IS NULL THEN NULL ELSE FALSE END")
                } else {
                    // Null stays null: Spark has answered `NULL IN (subquery)` with false.
                    format!(
                        "CASE WHEN {v} IS NULL THEN NULL ELSE ({norm} IN (SELECT code FROM {table})) END"
                    )
                }
            }
            MatchKind::Prefix => {
                let (table, codes) = self.codelist(cl, upper);
                let lengths: BTreeSet<usize> = codes.iter().map(|c| c.chars().count()).collect();
                if lengths.contains(&0) {
                    format!("CASE WHEN {v} IS NULL THEN NULL ELSE TRUE END")
                } else if lengths.is_empty() {
                    format!("CASE WHEN {v} IS NULL THEN NULL ELSE FALSE END")
                } else {
                    let tests: Vec<String> = lengths
                        .iter()
                        .map(|&n| format!("{} IN (SELECT code FROM {table})", d.left(&norm, n)))
                        .collect();
                    format!(
                        "CASE WHEN {v} IS NULL THEN NULL ELSE ({}) END",
                        tests.join(" OR ")
                    )
                }
            }
            MatchKind::Substring => {
                let (table, _) = self.codelist(cl, upper);
                format!(
                    "CASE WHEN {v} IS NULL THEN NULL WHEN {v} = '' THEN FALSE ELSE EXISTS (SELECT 1 FROM {table} AS c WHERE {}) END",
                    d.contains(&norm, "c.code")
                )
            }
            MatchKind::TokenPrefix => match self.token_pattern(cl, upper) {
                None => format!("CASE WHEN {v} IS NULL THEN NULL ELSE FALSE END"),
                Some(table) => format!(
                    "CASE WHEN {v} = '' THEN FALSE ELSE {} END",
                    d.regex_match(&norm, &format!("(SELECT pattern FROM {table})"))
                ),
            },
        }
    }
}

/// Every column read of each pick (through filters over it), so its table carries them.
fn pick_columns(dataset: &Dataset) -> HashMap<*const Frame, BTreeSet<String>> {
    let mut out: HashMap<*const Frame, BTreeSet<String>> = HashMap::new();
    walk(
        dataset,
        |s| {
            if let Series::Column { frame, column } = &**s {
                let mut f = frame;
                while let Frame::Filter { source, .. } = &**f {
                    if !source.is_patient_level() {
                        break;
                    }
                    f = source;
                }
                if matches!(&**f, Frame::Pick { .. }) && column != PATIENT_ID {
                    out.entry(Arc::as_ptr(f))
                        .or_default()
                        .insert(column.clone());
                }
            }
        },
        |_| {},
    );
    out
}

/// The operands of a chain of ANDs, in order.
fn conjuncts(s: &SeriesRef, out: &mut Vec<SeriesRef>) {
    match &**s {
        Series::Function(Function::And(a, b)) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        _ => out.push(Arc::clone(s)),
    }
}

/// Every line indented by two spaces.
fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plan as one readable SQL script: the header, each statement with its comment, loads as
/// comments saying what COPY sends, and the result query.
pub fn render(plan: &Plan, dialect: &dyn Dialect) -> String {
    let mut out = String::new();
    let comment = |out: &mut String, text: &str| {
        for line in text.lines() {
            let _ = writeln!(out, "-- {line}");
        }
    };
    comment(&mut out, &plan.header);
    comment(
        &mut out,
        "all statements run in one transaction; the temporary tables go with it",
    );
    for step in &plan.steps {
        match step {
            Step::Sql { comment: c, sql } => {
                if !c.is_empty() {
                    out.push('\n');
                    comment(&mut out, c);
                }
                let _ = writeln!(out, "{sql};");
            }
            Step::Load {
                comment: c,
                table,
                create,
                columns,
                data,
            } => {
                out.push('\n');
                comment(&mut out, c);
                let _ = writeln!(out, "{create};");
                let names: Vec<String> = columns
                    .iter()
                    .map(|(n, _)| dialect.quote_ident(n))
                    .collect();
                let rows = data.first().map_or(0, ColumnData::len);
                comment(
                    &mut out,
                    &format!(
                        "COPY {table} ({}) FROM STDIN: {rows} row{} sent as data",
                        names.join(", "),
                        if rows == 1 { "" } else { "s" }
                    ),
                );
            }
        }
    }
    out.push('\n');
    comment(&mut out, &plan.output.comment);
    let select = match (plan.index_dates.first(), plan.index_dates.last()) {
        (Some(&a), Some(&b)) => plan.output.for_dates(dialect, a, b),
        _ => plan.output.select.clone(),
    };
    let q = dialect.copy_out(&select).unwrap_or(select);
    let _ = writeln!(out, "{q};");
    out
}
