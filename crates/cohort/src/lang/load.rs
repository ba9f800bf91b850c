//! Loading a study definition: the top-level keys, codelists, variables (with inline helpers
//! and `include_date_of_match` columns), their dependencies and build order, and measures.
//! Every problem is reported with its position; a problem reported once is not reported again
//! by what depends on it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use query::{Series, SeriesRef};
use yaml::{Diagnostic, Node, Pos, Value as YValue};

use super::codelists;
use super::cx::{Built, Cx, Runtime, Shared};
use super::dates::{parse_iso_date, DateExpr};
use super::diag::{did_you_mean, known_list, Diags};
use super::model::*;
use super::vocab::{self, ArgKind, FunctionSpec, Status};

const RESERVED: [&str; 5] = ["patient_id", "population", "date", "index_date", "today"];
const TOP_KEYS: [&str; 6] = [
    "index_date",
    "default_expectations",
    "codelists",
    "population",
    "variables",
    "measures",
];

/// Is `name` a valid variable name (`[A-Za-z_][A-Za-z0-9_]*`)?
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A variable as parsed: its call, before it is built.
struct Call<'n> {
    name: String,
    name_pos: Pos,
    spec: &'static FunctionSpec,
    func_pos: Pos,
    /// The function's argument node (a mapping, a scalar shorthand, or null).
    node: &'n Node,
    args: Vec<(&'n str, &'n Node, Pos)>,
    hidden: bool,
    return_expectations: Option<&'n Node>,
    /// Inline helpers (names).
    helpers: Vec<String>,
    deps: Vec<(String, Pos)>,
}

/// The result of building every variable.
pub(crate) struct Loaded {
    pub(crate) study: Option<StudyDefinition>,
    pub(crate) built: HashMap<String, Built>,
    pub(crate) static_dates: Vec<(DateExpr, Pos)>,
    pub(crate) required_dates: Vec<(DateExpr, Pos, chrono::NaiveDate, &'static str)>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Reads a study definition file: `(text, file shown in messages)`.
pub(crate) fn read(path: &Path) -> Result<String, StudyError> {
    std::fs::read_to_string(path).map_err(|e| StudyError {
        problems: vec![
            Diagnostic::error(Pos::FILE, format!("cannot read study definition: {e}"))
                .in_file(path),
        ],
    })
}

/// The folder codelists are resolved against: the parent of the folder holding the file
/// (usually `analysis/`).
pub(crate) fn project_dir_of(path: &Path) -> PathBuf {
    path.parent()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Parses and builds a study definition from its YAML text.
pub(crate) fn load_text(text: &str, path: &Path, project_dir: &Path, runtime: &Runtime) -> Loaded {
    let (root, parse_diags) = yaml::parse(text);
    let mut d = Diags::new(path);
    for p in parse_diags {
        d.list.push(p.in_file(path));
    }
    let Some(root) = root else {
        if d.list.is_empty() {
            d.err(Pos::START, "empty study definition");
        }
        return finish(d, None, HashMap::new(), Vec::new(), Vec::new());
    };
    load_node(d, &root, path, project_dir, runtime)
}

/// Builds a study definition from its parsed tree.
pub(crate) fn load_node(
    mut d: Diags,
    root: &Node,
    path: &Path,
    project_dir: &Path,
    runtime: &Runtime,
) -> Loaded {
    let Some(entries) = root.as_map() else {
        d.err(
            root.pos,
            format!(
                "expected a mapping at the top level, found {}",
                root.kind_name()
            ),
        );
        return finish(d, None, HashMap::new(), Vec::new(), Vec::new());
    };
    for (k, _) in entries {
        let key = k.scalar_text().unwrap_or("");
        if !TOP_KEYS.contains(&key) {
            d.err(
                k.pos,
                format!(
                    "unknown key `{key}` (expected one of: {}){}",
                    TOP_KEYS.join(", "),
                    did_you_mean(key, TOP_KEYS)
                ),
            );
        }
    }
    let index_date = match root.get("index_date") {
        None => None,
        Some(n) if n.is_null() => None,
        Some(n) => match n.scalar_text().and_then(|s| parse_iso_date(s.trim())) {
            Some(date) => Some(date),
            None => {
                d.err(n.pos, "key `index_date`: expected an ISO date (YYYY-MM-DD)");
                None
            }
        },
    };
    let default_expectations = root
        .get("default_expectations")
        .filter(|n| !n.is_null())
        .map(Node::to_value);
    let (codelists, failed_codelists) = codelists::load(&mut d, root.get("codelists"), project_dir);

    // Parse every variable (helpers flattened before their parent).
    let mut calls: Vec<Call> = Vec::new();
    let mut defined: Vec<String> = Vec::new();
    let population_pos = root.entry("population").map_or(root.pos, |(k, _)| k.pos);
    let mut failed: HashSet<String> = HashSet::new();
    match root.get("population") {
        None => d.err(root.pos, "missing required key `population`"),
        Some(node) => {
            if !parse_variable(
                &mut d,
                "population",
                population_pos,
                node,
                false,
                &mut calls,
                &mut defined,
            ) {
                failed.insert("population".into());
            }
        }
    }
    match root.get("variables") {
        None => {}
        Some(n) if n.is_null() => {}
        Some(node) => match node.as_map() {
            None => d.err(
                node.pos,
                "key `variables`: expected a mapping of name -> definition",
            ),
            Some(entries) => {
                for (k, v) in entries {
                    let name = k.scalar_text().unwrap_or("");
                    if !check_name(&mut d, name, k.pos) {
                        continue;
                    }
                    if !parse_variable(&mut d, name, k.pos, v, false, &mut calls, &mut defined) {
                        failed.insert(name.to_string());
                    }
                }
            }
        },
    }

    // Unique names, `include_date_of_match` columns included.
    let mut seen: HashMap<String, Pos> = HashMap::new();
    let mut dup = Vec::new();
    for c in &calls {
        let mut names = vec![(c.name.clone(), c.name_pos)];
        if c.arg_bool("include_date_of_match") {
            names.push((format!("{}_date", c.name), c.name_pos));
        }
        if c.arg_bool("include_measurement_date") {
            names.push((format!("{}_date_measured", c.name), c.name_pos));
        }
        for (n, pos) in names {
            if let Some(first) = seen.get(&n) {
                dup.push((n.clone(), pos, first.line));
            } else {
                seen.insert(n, pos);
            }
        }
    }
    for (n, pos, first) in dup {
        d.err(
            pos,
            format!("variable `{n}`: defined more than once (first at line {first})"),
        );
        failed.insert(n);
    }
    // Every variable name defined (broken ones included), helpers before their parent.
    let names: Vec<String> = defined.into_iter().filter(|n| n != "population").collect();

    // Build order: dependencies first; cycles are errors.
    let order = build_order(&mut d, &calls, &mut failed);

    let mut shared = Shared::new(
        d,
        &codelists,
        &failed_codelists,
        runtime,
        project_dir,
        names,
    );
    shared.failed.extend(failed.iter().cloned());
    for &i in &order {
        let c = &calls[i];
        if shared.failed.contains(&c.name) {
            continue;
        }
        if c.deps.iter().any(|(dep, _)| shared.failed.contains(dep)) {
            shared.failed.insert(c.name.clone());
            continue;
        }
        match build_call(&mut shared, c) {
            Some(built) => {
                let extra = [
                    ("include_date_of_match", "_date"),
                    ("include_measurement_date", "_date_measured"),
                ];
                for (arg, suffix) in extra {
                    if c.arg_bool(arg) {
                        if let Some(date) = &built.match_date {
                            let format = built.format.unwrap_or(DateFormat::Year);
                            let mut b = Built::date(Arc::clone(date), format);
                            b.derived = Derived::DateOf(c.name.clone());
                            shared.built.insert(format!("{}{suffix}", c.name), b);
                        }
                    }
                }
                shared.built.insert(c.name.clone(), built);
            }
            None => {
                shared.failed.insert(c.name.clone());
                for suffix in ["_date", "_date_measured"] {
                    shared.failed.insert(format!("{}{suffix}", c.name));
                }
            }
        }
    }

    // The variables in definition order.
    let mut variables = Vec::new();
    let mut population = None;
    for c in &calls {
        let Some(b) = shared.built.get(&c.name) else {
            continue;
        };
        let var = Variable {
            name: c.name.clone(),
            line: c.name_pos.line,
            col: c.name_pos.col,
            function: c.spec.name.to_string(),
            column_type: b.ty,
            date_format: b.format,
            hidden: c.hidden,
            return_expectations: c.return_expectations.map(Node::to_value),
            derived: b.derived.clone(),
            window: b.window.clone(),
            codelist: c
                .arg("codelist")
                .and_then(Node::scalar_text)
                .map(str::to_string),
        };
        if c.name == "population" {
            population = Some(var);
            continue;
        }
        variables.push(var);
        for (arg, suffix) in [
            ("include_date_of_match", "_date"),
            ("include_measurement_date", "_date_measured"),
        ] {
            let extra = format!("{}{suffix}", c.name);
            if !c.arg_bool(arg) {
                continue;
            }
            if let Some(e) = shared.built.get(&extra) {
                variables.push(Variable {
                    name: extra.clone(),
                    line: c.name_pos.line,
                    col: c.name_pos.col,
                    function: c.spec.name.to_string(),
                    column_type: e.ty,
                    date_format: e.format,
                    hidden: c.hidden,
                    return_expectations: None,
                    derived: e.derived.clone(),
                    window: b.window.clone(),
                    codelist: None,
                });
            }
        }
    }
    let measures = match root.get("measures") {
        None => Vec::new(),
        Some(n) if n.is_null() => Vec::new(),
        Some(node) => load_measures(&mut shared.diags, node, &variables, &shared.failed),
    };
    let static_dates = std::mem::take(&mut shared.static_dates);
    let required_dates = std::mem::take(&mut shared.required_dates);
    let built = std::mem::take(&mut shared.built);
    let d = shared.diags;
    let study = population.map(|population| StudyDefinition {
        path: path.to_path_buf(),
        project_dir: project_dir.to_path_buf(),
        index_date,
        default_expectations,
        codelists: codelists.clone(),
        population,
        variables,
        measures,
        source: root.clone(),
        origins: None,
    });
    finish(d, study, built, static_dates, required_dates)
}

fn finish(
    d: Diags,
    study: Option<StudyDefinition>,
    built: HashMap<String, Built>,
    static_dates: Vec<(DateExpr, Pos)>,
    required_dates: Vec<(DateExpr, Pos, chrono::NaiveDate, &'static str)>,
) -> Loaded {
    let mut diagnostics = d.list;
    diagnostics.sort_by_key(|p| p.pos);
    diagnostics.dedup();
    Loaded {
        study,
        built,
        static_dates,
        required_dates,
        diagnostics,
    }
}

fn check_name(d: &mut Diags, name: &str, pos: Pos) -> bool {
    if RESERVED.contains(&name) {
        d.err(
            pos,
            format!(
                "variable `{name}`: the name `{name}` is reserved (reserved: {})",
                RESERVED.join(", ")
            ),
        );
        false
    } else if !valid_name(name) {
        d.err(
            pos,
            format!("variable `{name}`: invalid name (must match [A-Za-z_][A-Za-z0-9_]*)"),
        );
        false
    } else {
        true
    }
}

impl Call<'_> {
    fn arg(&self, name: &str) -> Option<&Node> {
        self.args
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, v, _)| *v)
            .filter(|v| !v.is_null())
    }

    fn arg_bool(&self, name: &str) -> bool {
        self.arg(name).and_then(Node::as_bool) == Some(true)
    }
}

/// Parses one variable (and its inline helpers, which come first) into `calls`; false when it
/// has a problem (already reported).
fn parse_variable<'n>(
    d: &mut Diags,
    name: &str,
    name_pos: Pos,
    node: &'n Node,
    hidden: bool,
    calls: &mut Vec<Call<'n>>,
    defined: &mut Vec<String>,
) -> bool {
    let ok = parse_call(d, name, name_pos, node, hidden, calls, defined);
    if !defined.iter().any(|n| n == name) {
        defined.push(name.to_string());
    }
    ok
}

/// [`parse_variable`] without recording the name.
fn parse_call<'n>(
    d: &mut Diags,
    name: &str,
    name_pos: Pos,
    node: &'n Node,
    hidden: bool,
    calls: &mut Vec<Call<'n>>,
    defined: &mut Vec<String>,
) -> bool {
    let prefix = format!("variable `{name}`");
    let known = || known_list(vocab::supported_names());
    let Some(entries) = node.as_map() else {
        d.err(
            node.pos,
            format!(
                "{prefix}: expected a mapping with one function key, found {}",
                node.kind_name()
            ),
        );
        return false;
    };
    let mut return_expectations = None;
    let mut functions = Vec::new();
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or("");
        if key == "return_expectations" {
            return_expectations = Some((v, k.pos));
            continue;
        }
        match vocab::function(key) {
            Some(spec) => functions.push((spec, k.pos, v)),
            None => {
                d.err(
                    k.pos,
                    format!(
                        "{prefix}: unknown function `{key}` (known functions: {}){}",
                        known(),
                        did_you_mean(key, vocab::FUNCTIONS.iter().map(|f| f.name))
                    ),
                );
                return false;
            }
        }
    }
    let (spec, func_pos, args_node) = match functions.as_slice() {
        [] => {
            d.err(
                name_pos,
                format!("{prefix}: no function key (expected one of: {})", known()),
            );
            return false;
        }
        [one] => *one,
        [first, second, ..] => {
            d.err(
                second.1,
                format!(
                    "{prefix}: more than one function (`{}` and `{}`)",
                    first.0.name, second.0.name
                ),
            );
            return false;
        }
    };
    let fprefix = format!("{prefix}: key `{}`", spec.name);
    match spec.status {
        Status::Supported => {}
        Status::NotYet => {
            d.err(
                func_pos,
                format!("{prefix}: function `{}` is not supported yet", spec.name),
            );
            return false;
        }
        Status::Unsupported(why) => {
            d.err(
                func_pos,
                format!("{prefix}: function `{}` is not supported: {why}", spec.name),
            );
            return false;
        }
    }
    if let Some((_, pos)) = return_expectations {
        if !spec.expectations {
            d.err(
                pos,
                format!(
                    "{fprefix}: `return_expectations` cannot be given for `{}`",
                    spec.name
                ),
            );
            return false;
        }
    }
    let n0 = d.count();
    // Arguments: a mapping, the scalar shorthand, or nothing.
    let mut args: Vec<(&'n str, &'n Node, Pos)> = Vec::new();
    let categorised = spec.name == "categorised_as";
    if args_node.is_null() {
    } else if let Some(entries) = args_node.as_map() {
        if !categorised {
            for (k, v) in entries {
                args.push((k.scalar_text().unwrap_or(""), v, k.pos));
            }
        }
    } else if let (Some(short), YValue::Scalar(..) | YValue::Seq(_)) =
        (spec.shorthand, &args_node.value)
    {
        args.push((short, args_node, args_node.pos));
    } else {
        d.err(
            args_node.pos,
            format!(
                "{fprefix}: expected a mapping of arguments, found {}",
                args_node.kind_name()
            ),
        );
        return false;
    }
    let known_args: Vec<&str> = spec.args.iter().map(|(n, _)| *n).collect();
    for (k, _, pos) in &args {
        if !spec.takes(k) {
            let hint = if known_args.is_empty() {
                " (it takes no arguments)".to_string()
            } else {
                format!(
                    " (known arguments: {}){}",
                    known_args.join(", "),
                    did_you_mean(k, known_args.iter().copied())
                )
            };
            d.err(*pos, format!("{fprefix}: unknown argument `{k}`{hint}"));
        }
    }
    // Inline helpers and dependencies.
    let mut helpers = Vec::new();
    let mut deps: Vec<(String, Pos)> = Vec::new();
    let mut helper_nodes: Vec<(&'n Node, &'n Node)> = Vec::new();
    if categorised {
        if let Some(entries) = args_node.as_map() {
            for (k, v) in entries {
                if k.scalar_text() == Some("variables") && v.as_map().is_some() {
                    helper_nodes.extend(v.as_map().unwrap_or(&[]).iter().map(|(a, b)| (a, b)));
                } else if v.scalar_text() != Some("DEFAULT") || v.quoted {
                    if let Some(text) = v.scalar_text() {
                        if let Ok(e) = crate::expr::Expr::parse(text) {
                            deps.extend(e.names().into_iter().map(|n| (n.to_string(), v.pos)));
                        }
                    }
                }
            }
        }
    }
    for (arg, node, _) in &args {
        match spec.arg(arg) {
            Some(ArgKind::Date) => deps.extend(date_deps(node)),
            Some(ArgKind::Dates2) => {
                for item in node.as_seq().unwrap_or(&[]) {
                    deps.extend(date_deps(item));
                }
            }
            Some(ArgKind::Expr) => {
                if let Some(Ok(e)) = node.scalar_text().map(crate::expr::Expr::parse) {
                    deps.extend(e.names().into_iter().map(|n| (n.to_string(), node.pos)));
                }
            }
            Some(ArgKind::Source) => {
                if let Some(s) = node.scalar_text() {
                    deps.push((s.to_string(), node.pos));
                }
            }
            Some(ArgKind::Sources) => {
                for item in node.as_seq().unwrap_or(std::slice::from_ref(*node)) {
                    if let Some(s) = item.scalar_text() {
                        if parse_iso_date(s).is_none() {
                            deps.push((s.to_string(), item.pos));
                        }
                    }
                }
            }
            Some(ArgKind::Helpers) => {
                if let Some(entries) = node.as_map() {
                    helper_nodes.extend(entries.iter().map(|(a, b)| (a, b)));
                } else {
                    d.err(
                        node.pos,
                        format!(
                            "{fprefix}: key `variables`: expected a mapping of name -> definition"
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    let mut ok = d.count() == n0;
    for (k, v) in helper_nodes {
        let hname = k.scalar_text().unwrap_or("");
        if !check_name(d, hname, k.pos) {
            ok = false;
            continue;
        }
        ok &= parse_variable(d, hname, k.pos, v, true, calls, defined);
        helpers.push(hname.to_string());
        deps.push((hname.to_string(), k.pos));
    }
    calls.push(Call {
        name: name.to_string(),
        name_pos,
        spec,
        func_pos,
        node: args_node,
        args,
        hidden,
        return_expectations: return_expectations.map(|(n, _)| n),
        helpers,
        deps,
    });
    ok
}

fn date_deps(node: &Node) -> Option<(String, Pos)> {
    let e = DateExpr::parse(node.scalar_text()?).ok()?;
    e.variable().map(|v| (v.to_string(), node.pos))
}

/// The order to build variables in (dependencies first, otherwise definition order). Cycles
/// are reported once and their members marked failed.
fn build_order(d: &mut Diags, calls: &[Call], failed: &mut HashSet<String>) -> Vec<usize> {
    let index: HashMap<&str, usize> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    // A `<name>_date` dependency is `<name>`.
    let target = |dep: &str| -> Option<usize> {
        index.get(dep).copied().or_else(|| {
            dep.strip_suffix("_date_measured")
                .or_else(|| dep.strip_suffix("_date"))
                .and_then(|p| index.get(p).copied())
        })
    };
    let mut state = vec![0u8; calls.len()];
    let mut order = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut reported: HashSet<Vec<usize>> = HashSet::new();
    #[allow(clippy::too_many_arguments)]
    fn visit(
        i: usize,
        calls: &[Call],
        target: &dyn Fn(&str) -> Option<usize>,
        state: &mut [u8],
        stack: &mut Vec<usize>,
        order: &mut Vec<usize>,
        cycles: &mut Vec<Vec<usize>>,
    ) {
        match state[i] {
            2 => return,
            1 => {
                if let Some(p) = stack.iter().position(|&x| x == i) {
                    let mut cycle = stack[p..].to_vec();
                    cycle.push(i);
                    cycles.push(cycle);
                }
                return;
            }
            _ => {}
        }
        state[i] = 1;
        stack.push(i);
        for (dep, _) in &calls[i].deps {
            if let Some(j) = target(dep) {
                visit(j, calls, target, state, stack, order, cycles);
            }
        }
        stack.pop();
        state[i] = 2;
        order.push(i);
    }
    let mut cycles = Vec::new();
    for i in 0..calls.len() {
        visit(
            i,
            calls,
            &target,
            &mut state,
            &mut stack,
            &mut order,
            &mut cycles,
        );
    }
    for cycle in cycles {
        let mut members = cycle[..cycle.len() - 1].to_vec();
        members.sort_unstable();
        if !reported.insert(members.clone()) {
            continue;
        }
        let first = &calls[cycle[0]];
        let path: Vec<&str> = cycle.iter().map(|&i| calls[i].name.as_str()).collect();
        let message = if cycle.len() == 2 {
            format!(
                "variable `{}`: key `{}`: depends on itself",
                first.name, first.spec.name
            )
        } else {
            format!(
                "variable `{}`: key `{}`: depends on itself through {}",
                first.name,
                first.spec.name,
                path.join(" -> ")
            )
        };
        d.err(first.name_pos, message);
        for &m in &members {
            failed.insert(calls[m].name.clone());
        }
    }
    order
}

fn build_call(shared: &mut Shared, c: &Call) -> Option<Built> {
    let n_errors = shared.diags.count();
    let mut cx = Cx {
        shared,
        spec: c.spec,
        prefix: format!("variable `{}`: key `{}`", c.name, c.spec.name),
        func_pos: c.func_pos,
        args: c.args.clone(),
        helpers: c.helpers.clone(),
        n_errors,
        categories: (c.spec.name == "categorised_as").then_some(c.node),
        window: None,
    };
    let built = (c.spec.build)(&mut cx);
    let window = cx.window.take();
    if cx.failed() {
        return None;
    }
    let mut built = built?;
    built.window = window;
    for (arg, suffix) in [
        ("include_date_of_match", "_date"),
        ("include_measurement_date", "_date_measured"),
    ] {
        if c.arg_bool(arg) && built.match_date.is_none() {
            let msg = format!(
                "variable `{}`: key `{}`: argument `{arg}` cannot be used here (no date goes with this value)",
                c.name, c.spec.name
            );
            shared
                .diags
                .err(c.arg(arg).map_or(c.func_pos, |n| n.pos), msg);
            let _ = suffix;
            return None;
        }
    }
    Some(built)
}

fn load_measures(
    d: &mut Diags,
    node: &Node,
    variables: &[Variable],
    failed: &HashSet<String>,
) -> Vec<MeasureDef> {
    let Some(items) = node.as_seq() else {
        d.err(node.pos, "key `measures`: expected a list of measures");
        return Vec::new();
    };
    const KEYS: [&str; 5] = [
        "id",
        "numerator",
        "denominator",
        "group_by",
        "small_number_suppression",
    ];
    let outputs: Vec<&Variable> = variables.iter().filter(|v| !v.hidden).collect();
    let known: Vec<&str> = outputs.iter().map(|v| v.name.as_str()).collect();
    let mut out: Vec<MeasureDef> = Vec::new();
    let mut seen_ids: Vec<(String, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut prefix = format!("measure #{}", i + 1);
        let Some(entries) = item.as_map() else {
            d.err(
                item.pos,
                format!(
                    "{prefix}: expected a mapping with keys id, numerator, denominator, group_by"
                ),
            );
            continue;
        };
        let n_problems = d.count();
        let mut skip = false;
        let id = item
            .get("id")
            .and_then(|n| n.scalar_text().map(|s| (s.to_string(), n.pos)));
        match &id {
            None => d.err(item.pos, format!("{prefix}: missing required key `id`")),
            Some((id, pos)) => {
                prefix = format!("measure `{id}`");
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    d.err(
                        *pos,
                        format!("{prefix}: key `id`: must match [A-Za-z0-9_]+"),
                    );
                } else if let Some((_, first)) = seen_ids.iter().find(|(seen, _)| seen == id) {
                    d.err(
                        *pos,
                        format!("{prefix}: key `id`: duplicate id (first at line {first})"),
                    );
                }
                seen_ids.push((id.clone(), pos.line));
            }
        }
        for (k, _) in entries {
            let key = k.scalar_text().unwrap_or("");
            if !KEYS.contains(&key) {
                d.err(
                    k.pos,
                    format!(
                        "{prefix}: unknown key `{key}` (expected one of: {}){}",
                        KEYS.join(", "),
                        did_you_mean(key, KEYS)
                    ),
                );
            }
        }
        let mut var_ref = |d: &mut Diags, key: &str, allow_population: bool| -> Option<String> {
            let Some(n) = item.get(key) else {
                d.err(item.pos, format!("{prefix}: missing required key `{key}`"));
                return None;
            };
            let name = n.scalar_text().filter(|_| !n.is_null()).unwrap_or("");
            if allow_population && name == "population" {
                return Some(name.to_string());
            }
            if failed.contains(name) {
                skip = true;
                return None;
            }
            match outputs.iter().find(|v| v.name == name) {
                None => {
                    d.err(
                        n.pos,
                        format!(
                            "{prefix}: key `{key}`: unknown variable `{name}` (known variables: {}){}",
                            known_list(known.iter().copied()),
                            did_you_mean(name, known.iter().copied())
                        ),
                    );
                    None
                }
                Some(v) if matches!(v.column_type, ColumnType::Str | ColumnType::Date) => {
                    d.err(n.pos, format!("{prefix}: key `{key}`: variable `{name}` is a {} column; it must be numeric (bool, int or float)", v.column_type.name()));
                    None
                }
                Some(_) => Some(name.to_string()),
            }
        };
        let numerator = var_ref(d, "numerator", false);
        let denominator = var_ref(d, "denominator", true);
        let group_by = match item.get("group_by") {
            None => Some(GroupBy::None),
            Some(n) if n.is_null() => Some(GroupBy::None),
            Some(n) => {
                let names: Vec<&Node> = match &n.value {
                    YValue::Scalar(..) => vec![n],
                    YValue::Seq(items) => items.iter().collect(),
                    YValue::Map(_) => {
                        d.err(n.pos, format!("{prefix}: key `group_by`: expected a list of variable names or `population`"));
                        Vec::new()
                    }
                };
                if names.len() == 1 && names[0].scalar_text() == Some("population") {
                    Some(GroupBy::Population)
                } else {
                    let mut vars = Vec::new();
                    for g in names {
                        let name = g.scalar_text().unwrap_or("");
                        if failed.contains(name) {
                            skip = true;
                        } else if !outputs.iter().any(|v| v.name == name) {
                            d.err(
                                g.pos,
                                format!(
                                    "{prefix}: key `group_by`: unknown variable `{name}` (known variables: {}){}",
                                    known_list(known.iter().copied()),
                                    did_you_mean(name, known.iter().copied())
                                ),
                            );
                        } else if vars.iter().any(|v| v == name) {
                            d.err(
                                g.pos,
                                format!("{prefix}: key `group_by`: `{name}` listed twice"),
                            );
                        } else {
                            vars.push(name.to_string());
                        }
                    }
                    Some(GroupBy::Variables(vars))
                }
            }
        };
        let small_number_suppression = match item.get("small_number_suppression") {
            None => false,
            Some(n) if n.is_null() => false,
            Some(n) => match n.as_bool() {
                Some(b) => b,
                None => {
                    d.err(
                        n.pos,
                        format!("{prefix}: key `small_number_suppression`: expected true or false"),
                    );
                    false
                }
            },
        };
        if d.count() != n_problems || skip {
            continue;
        }
        if let (Some((id, _)), Some(numerator), Some(denominator), Some(group_by)) =
            (id, numerator, denominator, group_by)
        {
            out.push(MeasureDef {
                id,
                numerator,
                denominator,
                group_by,
                small_number_suppression,
                line: item.pos.line,
            });
        }
    }
    out
}

/// A variable's value as an output column: missing values defaulted (dates stay null).
pub(crate) fn output_series(b: &Built) -> SeriesRef {
    if b.missing.is_null() {
        Arc::clone(&b.value)
    } else {
        Series::coalesce(&b.value, &Series::value(b.missing.clone()))
    }
}
