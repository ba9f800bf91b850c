//! Type and level checking of query-model nodes.
//!
//! A front end builds nodes; [`check_dataset`] says whether they form a valid query (types agree,
//! row-level series are used only over their own frame's rows) and [`TypeOf`] gives each
//! series' type, which engines need (e.g. for typed nulls). An error here is a front-end bug,
//! not a user error: front ends report user errors before building nodes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::*;
use crate::value::Type;

/// An invalid query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query: {0}")]
pub struct ModelError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError(msg.into()))
}

/// Where a series is evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// One value per patient.
    Patient,
    /// One value per row of a root frame.
    Row(RootKey),
}

/// The identity of a root frame (whose rows row-level series run over): a table by name, a
/// concat by node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RootKey {
    /// A data-source table.
    Table(String),
    /// Another root (a concat), by node address.
    Node(*const Frame),
}

/// The root key of an event-level frame.
pub fn root_key(frame: &FrameRef) -> RootKey {
    match &**frame.root() {
        Frame::Table(schema) => RootKey::Table(schema.name.clone()),
        _ => RootKey::Node(Arc::as_ptr(frame.root())),
    }
}

/// The columns a frame's rows have (without `patient_id`).
pub fn frame_columns(frame: &Frame) -> Vec<(String, Type)> {
    match frame {
        Frame::Table(schema) => schema
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty))
            .collect(),
        Frame::Inline(t) => t
            .schema
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty))
            .collect(),
        Frame::Concat { columns, .. } => columns.clone(),
        Frame::Filter { source, .. } | Frame::Pick { source, .. } => frame_columns(source),
    }
}

/// The type of column `name` of `frame`.
pub fn column_type(frame: &Frame, name: &str) -> Option<Type> {
    if name == PATIENT_ID {
        return Some(Type::Int);
    }
    frame_columns(frame)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
}

/// Series types, memoised by node.
#[derive(Default)]
pub struct TypeOf {
    /// Skip level checks (to type a row-level series on its own).
    lenient: bool,
    lenient_memo: HashMap<*const Series, (Type, Level)>,
    memo: HashMap<*const Series, (Type, Level)>,
    frames: HashMap<*const Frame, ()>,
}

impl TypeOf {
    /// A new cache.
    pub fn new() -> Self {
        TypeOf::default()
    }

    /// The type of a series of a valid query (patient- or row-level); `Type::Bool` for a
    /// series that does not type-check.
    pub fn of(&mut self, s: &SeriesRef) -> Type {
        self.lenient = true;
        std::mem::swap(&mut self.memo, &mut self.lenient_memo);
        let t = self.series(s, None).map_or(Type::Bool, |(t, _)| t);
        std::mem::swap(&mut self.memo, &mut self.lenient_memo);
        self.lenient = false;
        t
    }

    /// Checks a frame (its filters, sort keys and parts).
    pub fn frame(&mut self, f: &FrameRef) -> Result<(), ModelError> {
        let key = Arc::as_ptr(f);
        if self.frames.contains_key(&key) {
            return Ok(());
        }
        match &**f {
            Frame::Table(_) => {}
            Frame::Inline(t) => {
                if !t.schema.one_row_per_patient {
                    return err(format!(
                        "inline table `{}` must be one row per patient",
                        t.schema.name
                    ));
                }
                for (_, row) in &t.rows {
                    if row.len() != t.schema.columns.len() {
                        return err(format!("inline table `{}`: row width", t.schema.name));
                    }
                }
            }
            Frame::Concat { columns, parts } => {
                if parts.is_empty() {
                    return err("concat of no frames");
                }
                for (part, series) in parts {
                    self.frame(part)?;
                    if part.is_patient_level() {
                        return err("concat parts must be event-level frames");
                    }
                    if series.len() != columns.len() {
                        return err("concat part has the wrong number of columns");
                    }
                    let domain = Some(root_key(part));
                    for (s, (name, ty)) in series.iter().zip(columns) {
                        let (t, _) = self.series(s, domain.clone())?;
                        if t != *ty {
                            return err(format!("concat column `{name}`: {t} is not {ty}"));
                        }
                    }
                }
            }
            Frame::Filter { source, condition } => {
                self.frame(source)?;
                let domain = (!source.is_patient_level()).then(|| root_key(source));
                let (t, _) = self.series(condition, domain)?;
                if t != Type::Bool {
                    return err(format!("filter condition is {t}, not bool"));
                }
            }
            Frame::Pick {
                source, sort_by, ..
            } => {
                self.frame(source)?;
                if source.is_patient_level() {
                    return err("pick from a patient-level frame");
                }
                let domain = Some(root_key(source));
                for k in sort_by {
                    self.series(k, domain.clone())?;
                }
            }
        }
        self.frames.insert(key, ());
        Ok(())
    }

    /// The type and level of a series evaluated in `domain` (the rows of a frame, or patients).
    pub fn series(
        &mut self,
        s: &SeriesRef,
        domain: Option<RootKey>,
    ) -> Result<(Type, Level), ModelError> {
        let key = Arc::as_ptr(s);
        if let Some((t, level)) = self.memo.get(&key) {
            return match level {
                Level::Row(root) if !self.lenient && Some(root) != domain.as_ref() => {
                    err("a row-level series used outside its frame")
                }
                _ => Ok((*t, level.clone())),
            };
        }
        let result = self.series_uncached(s, domain)?;
        self.memo.insert(key, result.clone());
        Ok(result)
    }

    fn series_uncached(
        &mut self,
        s: &SeriesRef,
        domain: Option<RootKey>,
    ) -> Result<(Type, Level), ModelError> {
        let patient = |t: Type| Ok((t, Level::Patient));
        match &**s {
            Series::Value { value, ty } => {
                if let Some(vt) = value.ty() {
                    if vt != *ty {
                        return err(format!("constant {value} is not {ty}"));
                    }
                }
                patient(*ty)
            }
            Series::IndexDate => patient(Type::Date),
            Series::Column { frame, column } => {
                self.frame(frame)?;
                let Some(t) = column_type(frame, column) else {
                    return err(format!("no column `{column}`"));
                };
                if frame.is_patient_level() {
                    return patient(t);
                }
                let root = root_key(frame);
                if !self.lenient && domain.as_ref() != Some(&root) {
                    return err(format!(
                        "row-level column `{column}` used outside its frame's rows"
                    ));
                }
                Ok((t, Level::Row(root)))
            }
            Series::Aggregate { frame, function } => {
                self.frame(frame)?;
                let inner = (!frame.is_patient_level()).then(|| root_key(frame));
                let arg = |s: &SeriesRef, this: &mut Self| -> Result<Type, ModelError> {
                    Ok(this.series(s, inner.clone())?.0)
                };
                let t = match function {
                    Aggregate::Exists | Aggregate::SpanCovered { .. } => Type::Bool,
                    Aggregate::Count => Type::Int,
                    Aggregate::CountDistinct(x) => {
                        arg(x, self)?;
                        Type::Int
                    }
                    Aggregate::Min(x) | Aggregate::Max(x) | Aggregate::Mode(x) => arg(x, self)?,
                    Aggregate::Sum(x) => {
                        let t = arg(x, self)?;
                        if !t.is_numeric() {
                            return err(format!("sum of {t}"));
                        }
                        t
                    }
                    Aggregate::Mean(x) => {
                        let t = arg(x, self)?;
                        if !t.is_numeric() {
                            return err(format!("mean of {t}"));
                        }
                        Type::Float
                    }
                    Aggregate::CountEpisodes { date, .. } => {
                        if arg(date, self)? != Type::Date {
                            return err("episodes need dates");
                        }
                        Type::Int
                    }
                    Aggregate::SumOfGroupMax { key, value, .. } => {
                        arg(key, self)?;
                        if arg(value, self)? != Type::Int {
                            return err("sum of group max needs ints");
                        }
                        Type::Int
                    }
                };
                if let Aggregate::SpanCovered {
                    start,
                    end,
                    from,
                    to,
                } = function
                {
                    for x in [start, end] {
                        if arg(x, self)? != Type::Date {
                            return err("span bounds must be dates");
                        }
                    }
                    for x in [from, to] {
                        if self.series(x, domain.clone())?.0 != Type::Date {
                            return err("span must be dates");
                        }
                    }
                }
                patient(t)
            }
            Series::Function(f) => self.function(f, domain),
        }
    }

    fn function(
        &mut self,
        f: &Function,
        domain: Option<RootKey>,
    ) -> Result<(Type, Level), ModelError> {
        let mut level = Level::Patient;
        let mut arg = |s: &SeriesRef, this: &mut Self| -> Result<Type, ModelError> {
            let (t, l) = this.series(s, domain.clone())?;
            if let Level::Row(_) = l {
                level = l;
            }
            Ok(t)
        };
        let want = |t: Type, want: Type, what: &str| -> Result<(), ModelError> {
            if t == want {
                Ok(())
            } else {
                err(format!("{what} needs {want}, got {t}"))
            }
        };
        let t = match f {
            Function::Not(a) => {
                want(arg(a, self)?, Type::Bool, "not")?;
                Type::Bool
            }
            Function::And(a, b) | Function::Or(a, b) => {
                want(arg(a, self)?, Type::Bool, "and/or")?;
                want(arg(b, self)?, Type::Bool, "and/or")?;
                Type::Bool
            }
            Function::IsNull(a) => {
                arg(a, self)?;
                Type::Bool
            }
            Function::Compare(_, a, b) => {
                let (ta, tb) = (arg(a, self)?, arg(b, self)?);
                if ta != tb && !(ta.is_numeric() && tb.is_numeric()) {
                    return err(format!("comparison of {ta} with {tb}"));
                }
                Type::Bool
            }
            Function::Arithmetic(op, a, b) => {
                let (ta, tb) = (arg(a, self)?, arg(b, self)?);
                if !ta.is_numeric() || !tb.is_numeric() {
                    return err(format!("arithmetic on {ta} and {tb}"));
                }
                if *op != Arithmetic::Div && ta == Type::Int && tb == Type::Int {
                    Type::Int
                } else {
                    Type::Float
                }
            }
            Function::Negate(a) => {
                let t = arg(a, self)?;
                if !t.is_numeric() {
                    return err(format!("negation of {t}"));
                }
                t
            }
            Function::Round { value, .. } => {
                if !arg(value, self)?.is_numeric() {
                    return err("round of a non-number");
                }
                Type::Float
            }
            Function::ToFloat(a) => {
                if !arg(a, self)?.is_numeric() {
                    return err("to_float of a non-number");
                }
                Type::Float
            }
            Function::IntToStr(a) => {
                want(arg(a, self)?, Type::Int, "int to string")?;
                Type::Str
            }
            Function::Str(_, a) => {
                want(arg(a, self)?, Type::Str, "string function")?;
                Type::Str
            }
            Function::InCodelist { code, .. } => {
                want(arg(code, self)?, Type::Str, "codelist match")?;
                Type::Bool
            }
            Function::CodelistCategory { code, .. } => {
                want(arg(code, self)?, Type::Str, "codelist category")?;
                Type::Str
            }
            Function::DateAdd { date, .. }
            | Function::FirstOfMonth(date)
            | Function::FirstOfYear(date) => {
                want(arg(date, self)?, Type::Date, "date function")?;
                Type::Date
            }
            Function::DatePart(_, date) => {
                want(arg(date, self)?, Type::Date, "date part")?;
                Type::Int
            }
            Function::YearsBetween(a, b) => {
                want(arg(a, self)?, Type::Date, "years between")?;
                want(arg(b, self)?, Type::Date, "years between")?;
                Type::Int
            }
            Function::DateToStr(a, _) => {
                want(arg(a, self)?, Type::Date, "date to string")?;
                Type::Str
            }
            Function::Case { cases, default } => {
                let mut out: Option<Type> = None;
                for (c, v) in cases {
                    want(arg(c, self)?, Type::Bool, "case condition")?;
                    let t = arg(v, self)?;
                    if out.is_some_and(|o| o != t) {
                        return err("case values of different types");
                    }
                    out = Some(t);
                }
                if let Some(d) = default {
                    let t = arg(d, self)?;
                    if out.is_some_and(|o| o != t) {
                        return err("case default of a different type");
                    }
                    out = Some(t);
                }
                match out {
                    Some(t) => t,
                    None => return err("case with no values"),
                }
            }
            Function::Coalesce(xs) | Function::Least(xs) | Function::Greatest(xs) => {
                let mut out: Option<Type> = None;
                for x in xs {
                    let t = arg(x, self)?;
                    if out.is_some_and(|o| o != t) {
                        return err("coalesce/least/greatest of different types");
                    }
                    out = Some(t);
                }
                match out {
                    Some(t) => t,
                    None => return err("coalesce/least/greatest of nothing"),
                }
            }
            Function::ExistsMatching { frame, key, value } => {
                self.frame(frame)?;
                if frame.is_patient_level() {
                    return err("exists-matching over a patient-level frame");
                }
                let inner = Some(root_key(frame));
                let tk = self.series(key, inner)?.0;
                let tv = arg(value, self)?;
                if tk != tv {
                    return err(format!("exists-matching of {tk} with {tv}"));
                }
                Type::Bool
            }
        };
        Ok((t, level))
    }
}

/// Checks a dataset: the population is a patient-level bool, every column patient-level.
pub fn check_dataset(dataset: &Dataset) -> Result<(), ModelError> {
    let mut types = TypeOf::new();
    let (t, level) = types.series(&dataset.population, None)?;
    if t != Type::Bool || level != Level::Patient {
        return err("the population must be a patient-level bool");
    }
    let mut names = std::collections::HashSet::new();
    for (name, s) in &dataset.columns {
        if !names.insert(name.as_str()) || name == PATIENT_ID {
            return err(format!("duplicate column `{name}`"));
        }
        let (_, level) = types.series(s, None)?;
        if level != Level::Patient {
            return err(format!("column `{name}` is not patient-level"));
        }
    }
    Ok(())
}

/// Every table the dataset reads (by name), each once, in first-use order.
pub fn tables_read(dataset: &Dataset) -> Vec<Arc<TableSchema>> {
    sources(dataset).0
}

/// Every inline table the dataset reads.
pub fn inline_tables(dataset: &Dataset) -> Vec<Arc<InlineTable>> {
    sources(dataset).1
}

fn sources(dataset: &Dataset) -> (Vec<Arc<TableSchema>>, Vec<Arc<InlineTable>>) {
    let mut out: Vec<Arc<TableSchema>> = Vec::new();
    let mut inline: Vec<Arc<InlineTable>> = Vec::new();
    walk(
        dataset,
        |_| {},
        |f| match &**f {
            Frame::Table(schema) if !out.iter().any(|t| t.name == schema.name) => {
                out.push(Arc::clone(schema));
            }
            Frame::Inline(t) if !inline.iter().any(|x| Arc::ptr_eq(x, t)) => {
                inline.push(Arc::clone(t));
            }
            _ => {}
        },
    );
    (out, inline)
}

/// Visits every distinct series and frame the dataset reaches (through frames too: concat
/// parts' series, filter conditions, pick sort keys), each once, depth first from the
/// population then the columns: the one traversal the analyses of a dataset share.
pub fn walk<'a>(
    dataset: &'a Dataset,
    mut on_series: impl FnMut(&'a SeriesRef),
    mut on_frame: impl FnMut(&'a FrameRef),
) {
    let mut seen_s = std::collections::HashSet::new();
    let mut seen_f = std::collections::HashSet::new();
    let mut stack_s: Vec<&SeriesRef> = vec![&dataset.population];
    stack_s.extend(dataset.columns.iter().map(|(_, s)| s));
    let mut stack_f: Vec<&FrameRef> = Vec::new();
    loop {
        if let Some(s) = stack_s.pop() {
            if !seen_s.insert(Arc::as_ptr(s)) {
                continue;
            }
            on_series(s);
            visit_series_children(s, &mut stack_s, &mut stack_f);
        } else if let Some(f) = stack_f.pop() {
            if !seen_f.insert(Arc::as_ptr(f)) {
                continue;
            }
            on_frame(f);
            match &**f {
                Frame::Table(_) | Frame::Inline(_) => {}
                Frame::Concat { parts, .. } => {
                    for (p, series) in parts {
                        stack_f.push(p);
                        stack_s.extend(series);
                    }
                }
                Frame::Filter { source, condition } => {
                    stack_f.push(source);
                    stack_s.push(condition);
                }
                Frame::Pick {
                    source, sort_by, ..
                } => {
                    stack_f.push(source);
                    stack_s.extend(sort_by);
                }
            }
        } else {
            break;
        }
    }
}

/// Every column of a data-source table the dataset reads, by table name (`patient_id` not
/// included): engines require exactly these.
pub fn columns_read(
    dataset: &Dataset,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for t in tables_read(dataset) {
        out.entry(t.name.clone()).or_default();
    }
    walk(
        dataset,
        |s| {
            if let Series::Column { frame, column } = &**s {
                let mut root = frame;
                while let Frame::Filter { source, .. } | Frame::Pick { source, .. } = &**root {
                    root = source;
                }
                if let Frame::Table(schema) = &**root {
                    if column != PATIENT_ID {
                        out.entry(schema.name.clone())
                            .or_default()
                            .insert(column.clone());
                    }
                }
            }
        },
        |_| {},
    );
    out
}

/// Pushes the direct children of a series.
pub fn visit_series_children<'a>(
    s: &'a Series,
    series: &mut Vec<&'a SeriesRef>,
    frames: &mut Vec<&'a FrameRef>,
) {
    match s {
        Series::Value { .. } | Series::IndexDate => {}
        Series::Column { frame, .. } => frames.push(frame),
        Series::Aggregate { frame, function } => {
            frames.push(frame);
            match function {
                Aggregate::Exists | Aggregate::Count => {}
                Aggregate::Min(x)
                | Aggregate::Max(x)
                | Aggregate::Sum(x)
                | Aggregate::Mean(x)
                | Aggregate::CountDistinct(x)
                | Aggregate::Mode(x) => series.push(x),
                Aggregate::CountEpisodes { date, .. } => series.push(date),
                Aggregate::SpanCovered {
                    start,
                    end,
                    from,
                    to,
                } => series.extend([start, end, from, to]),
                Aggregate::SumOfGroupMax { key, value, .. } => series.extend([key, value]),
            }
        }
        Series::Function(f) => match f {
            Function::Not(a)
            | Function::IsNull(a)
            | Function::Negate(a)
            | Function::Round { value: a, .. }
            | Function::ToFloat(a)
            | Function::IntToStr(a)
            | Function::Str(_, a)
            | Function::InCodelist { code: a, .. }
            | Function::CodelistCategory { code: a, .. }
            | Function::DateAdd { date: a, .. }
            | Function::FirstOfMonth(a)
            | Function::FirstOfYear(a)
            | Function::DatePart(_, a)
            | Function::DateToStr(a, _) => series.push(a),
            Function::And(a, b)
            | Function::Or(a, b)
            | Function::Compare(_, a, b)
            | Function::Arithmetic(_, a, b)
            | Function::YearsBetween(a, b) => series.extend([a, b]),
            Function::Case { cases, default } => {
                for (c, v) in cases {
                    series.extend([c, v]);
                }
                series.extend(default);
            }
            Function::Coalesce(xs) | Function::Least(xs) | Function::Greatest(xs) => {
                series.extend(xs);
            }
            Function::ExistsMatching { frame, key, value } => {
                frames.push(frame);
                series.extend([key, value]);
            }
        },
    }
}

/// A row filter that every use of an event-level table applies: rows whose `column` is not one
/// of `codes` (exactly, case-sensitively) reach no result, so a source may drop them on load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePrefilter {
    /// The code column.
    pub column: String,
    /// The codes kept (the union of the codelists of every use).
    pub codes: std::collections::BTreeSet<String>,
}

impl CodePrefilter {
    /// Whether a row whose code column holds `code` is kept (a null code is not).
    pub fn keeps(&self, code: Option<&str>) -> bool {
        code.is_some_and(|c| self.codes.contains(c))
    }
}

/// Per event-level table, the [`CodePrefilter`] its rows may be cut to: present only when
/// every frame that reads the table's rows is a filter whose condition requires (alone or as
/// one side of an `and`) an exact membership of one same code column in a codelist. A table
/// also read unfiltered (aggregated, picked, concatenated, matched, or filtered otherwise) has
/// none. Dropped rows still count for the patient universe: a source must keep their
/// patients (see `engine-polars`' extra patients).
pub fn code_prefilters(dataset: &Dataset) -> std::collections::BTreeMap<String, CodePrefilter> {
    use std::collections::BTreeMap;
    // Per table: Some(prefilter) while every use so far qualifies, None once one does not.
    let mut uses: BTreeMap<String, Option<CodePrefilter>> = BTreeMap::new();
    let mut record = |table: &TableSchema, filter: Option<Required>| {
        if table.one_row_per_patient {
            return;
        }
        let entry = uses.entry(table.name.clone());
        let first = matches!(entry, std::collections::btree_map::Entry::Vacant(_));
        let slot = entry.or_insert(None);
        match filter {
            Some((column, codes)) if first => {
                *slot = Some(CodePrefilter {
                    column,
                    codes: codes.into_iter().collect(),
                });
            }
            Some((column, codes)) => match slot {
                Some(p) if p.column == column => p.codes.extend(codes),
                _ => *slot = None,
            },
            None => *slot = None,
        }
    };
    let mut unfiltered: Vec<Arc<TableSchema>> = Vec::new();
    let mut unfiltered_frames: Vec<Arc<TableSchema>> = Vec::new();
    let mut filtered: Vec<(Arc<TableSchema>, Option<Required>)> = Vec::new();
    let as_table = |f: &FrameRef| match &**f {
        Frame::Table(t) => Some(Arc::clone(t)),
        _ => None,
    };
    walk(
        dataset,
        |s| match &**s {
            Series::Aggregate { frame, .. }
            | Series::Function(Function::ExistsMatching { frame, .. }) => {
                unfiltered.extend(as_table(frame));
            }
            _ => {}
        },
        |f| match &**f {
            Frame::Filter { source, condition } => {
                if let Some(t) = as_table(source) {
                    let req = required_codes(condition, &t.name);
                    filtered.push((t, req));
                }
            }
            Frame::Pick { source, .. } => unfiltered_frames.extend(as_table(source)),
            Frame::Concat { parts, .. } => {
                unfiltered_frames.extend(parts.iter().filter_map(|(p, _)| as_table(p)));
            }
            Frame::Table(_) | Frame::Inline(_) => {}
        },
    );
    for (t, req) in filtered {
        record(&t, req);
    }
    for t in unfiltered.into_iter().chain(unfiltered_frames) {
        record(&t, None);
    }
    uses.into_iter()
        .filter_map(|(t, p)| p.map(|p| (t, p)))
        .collect()
}

/// A code column and the codes a row must have in it.
type Required = (String, Vec<String>);

/// The `(column, codes)` a row of `table` must have for `condition` to be true: an exact,
/// case-sensitive codelist membership of a column of that table, alone or as a side of an
/// `and` (three-valued: `and` is true only when both sides are).
fn required_codes(condition: &SeriesRef, table: &str) -> Option<Required> {
    match &**condition {
        Series::Function(Function::InCodelist {
            code,
            codelist,
            rule,
        }) if *rule == MatchRule::EXACT => match &**code {
            Series::Column { frame, column } => match &**frame {
                Frame::Table(t) if t.name == table => {
                    Some((column.clone(), codelist.codes.keys().cloned().collect()))
                }
                _ => None,
            },
            _ => None,
        },
        Series::Function(Function::And(a, b)) => {
            required_codes(a, table).or_else(|| required_codes(b, table))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn events() -> Arc<TableSchema> {
        Arc::new(TableSchema {
            name: "clinical_events".into(),
            columns: ["code", "other"]
                .iter()
                .map(|n| ColumnSchema {
                    name: (*n).into(),
                    ty: Type::Str,
                    nullable: true,
                })
                .collect(),
            one_row_per_patient: false,
        })
    }

    fn in_codes(frame: &FrameRef, column: &str, codes: &[&str]) -> SeriesRef {
        Series::function(Function::InCodelist {
            code: Series::column(frame, column),
            codelist: Arc::new(Codelist {
                name: "c".into(),
                codes: codes.iter().map(|c| ((*c).to_string(), None)).collect(),
            }),
            rule: MatchRule::EXACT,
        })
    }

    fn dataset(columns: Vec<SeriesRef>) -> Dataset {
        Dataset {
            population: Series::value(Value::Bool(true)),
            columns: columns
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("c{i}"), s))
                .collect(),
        }
    }

    fn codes(p: &CodePrefilter) -> Vec<&str> {
        p.codes.iter().map(String::as_str).collect()
    }

    #[test]
    fn filters_by_codelist_give_the_union_of_their_codes() {
        let t = Frame::table(&events());
        let a = Frame::filter(&t, &in_codes(&t, "code", &["A", "B"]));
        let date_ok = Series::compare(
            Comparison::Eq,
            &Series::column(&t, "other"),
            &Series::value(Value::Str("x".into())),
        );
        let b = Frame::filter(&t, &Series::and(&date_ok, &in_codes(&t, "code", &["C"])));
        let ds = dataset(vec![
            Series::aggregate(&a, Aggregate::Exists),
            Series::aggregate(&b, Aggregate::Count),
        ]);
        let p = code_prefilters(&ds);
        let p = &p["clinical_events"];
        assert_eq!(p.column, "code");
        assert_eq!(codes(p), ["A", "B", "C"]);
    }

    #[test]
    fn an_unfiltered_use_forbids_the_prefilter() {
        // Counting every event of the table needs rows outside the codelist: cutting them
        // would change the count.
        let t = Frame::table(&events());
        let a = Frame::filter(&t, &in_codes(&t, "code", &["A"]));
        let ds = dataset(vec![
            Series::aggregate(&a, Aggregate::Exists),
            Series::aggregate(&t, Aggregate::Count),
        ]);
        assert!(code_prefilters(&ds).is_empty());
    }

    #[test]
    fn or_not_and_other_columns_forbid_the_prefilter() {
        let t = Frame::table(&events());
        let either = Frame::filter(
            &t,
            &Series::or(
                &in_codes(&t, "code", &["A"]),
                &Series::value(Value::Bool(true)),
            ),
        );
        assert!(code_prefilters(&dataset(vec![Series::aggregate(
            &either,
            Aggregate::Exists
        )]))
        .is_empty());
        let not = Frame::filter(&t, &Series::not(&in_codes(&t, "code", &["A"])));
        assert!(
            code_prefilters(&dataset(vec![Series::aggregate(&not, Aggregate::Exists)])).is_empty()
        );
        let a = Frame::filter(&t, &in_codes(&t, "code", &["A"]));
        let b = Frame::filter(&t, &in_codes(&t, "other", &["B"]));
        let ds = dataset(vec![
            Series::aggregate(&a, Aggregate::Exists),
            Series::aggregate(&b, Aggregate::Exists),
        ]);
        assert!(code_prefilters(&ds).is_empty());
    }

    #[test]
    fn a_pick_of_the_whole_table_forbids_the_prefilter() {
        let t = Frame::table(&events());
        let a = Frame::filter(&t, &in_codes(&t, "code", &["A"]));
        let last = Frame::pick(&t, vec![Series::column(&t, "other")], Position::Last);
        let ds = dataset(vec![
            Series::aggregate(&a, Aggregate::Exists),
            Series::column(&last, "code"),
        ]);
        assert!(code_prefilters(&ds).is_empty());
    }
}
