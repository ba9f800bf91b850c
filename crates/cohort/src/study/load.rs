//! Loading and validating a study definition YAML file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::codelist::{CodeSystem, Codelist};
use crate::dates::{parse_iso_date, DateExpr};
use crate::expr::{Expr, ExprType};

use super::model::*;
use yaml::{Diagnostic, Node, Pos, Value};

const RESERVED: [&str; 3] = ["patient_id", "population", "date"];
const TOP_KEYS: [&str; 6] = [
    "index_date",
    "default_expectations",
    "codelists",
    "population",
    "variables",
    "measures",
];
const FUNCTIONS: [&str; 11] = [
    "registered_as_of",
    "registered_with_one_practice_between",
    "with_complete_history_between",
    "registered_practice_as_of",
    "age_as_of",
    "sex",
    "date_of_birth",
    "died_from_any_cause",
    "with_these_clinical_events",
    "categorised_as",
    "satisfying",
];

/// Is `name` a valid variable name (`[A-Za-z_][A-Za-z0-9_]*`)?
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Ctx {
    file: PathBuf,
    problems: Vec<Diagnostic>,
}

impl Ctx {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems
            .push(Diagnostic::error(pos, message).in_file(&self.file));
    }
}

/// The arguments of one function call, tracking which were used.
struct Args<'a> {
    entries: Vec<(&'a str, &'a Node, Pos)>,
    used: HashSet<&'a str>,
}

impl<'a> Args<'a> {
    fn take(&mut self, name: &'a str) -> Option<&'a Node> {
        self.used.insert(name);
        self.entries
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, v, _)| *v)
    }
}

impl StudyDefinition {
    /// Loads and validates the study definition at `path`, with its codelists (CSV paths are
    /// relative to the project folder: the parent of the folder holding the file, usually
    /// `analysis/`). Returns every problem found, each naming file, line and key.
    pub fn load(path: &Path) -> Result<StudyDefinition, StudyError> {
        let text = std::fs::read_to_string(path).map_err(|e| StudyError {
            problems: vec![Diagnostic::error(
                Pos::FILE,
                format!("cannot read study definition: {e}"),
            )
            .in_file(path)],
        })?;
        let project_dir = path
            .parent()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        StudyDefinition::from_yaml(&text, path, project_dir)
    }

    /// Validates study-definition YAML `text`; `path` names the file in messages and
    /// codelist CSV paths are resolved against `project_dir`.
    pub fn from_yaml(
        text: &str,
        path: &Path,
        project_dir: &Path,
    ) -> Result<StudyDefinition, StudyError> {
        let mut cx = Ctx {
            file: path.to_path_buf(),
            problems: Vec::new(),
        };
        // Problems of the YAML itself (duplicate keys, a second document) do not stop the
        // checks of what could be read; a syntax error leaves nothing to check.
        let (root, diagnostics) = yaml::parse(text);
        cx.problems
            .extend(diagnostics.into_iter().map(|d| d.in_file(path)));
        let root = match root {
            Some(root) => root,
            None if cx.problems.is_empty() => Node {
                value: Value::Map(Vec::new()),
                pos: Pos::START,
                quoted: false,
            },
            None => {
                return Err(StudyError {
                    problems: cx.problems,
                })
            }
        };
        let study = load_root(&mut cx, &root, path, project_dir);
        cx.problems.sort_by_key(|p| p.pos);
        match study {
            Some(s) if cx.problems.is_empty() => Ok(s),
            _ => Err(StudyError {
                problems: cx.problems,
            }),
        }
    }
}

fn load_root(
    cx: &mut Ctx,
    root: &Node,
    path: &Path,
    project_dir: &Path,
) -> Option<StudyDefinition> {
    let Some(entries) = root.as_map() else {
        cx.err(
            root.pos,
            format!(
                "expected a mapping at the top level, found {}",
                root.kind_name()
            ),
        );
        return None;
    };
    for (k, _) in entries {
        let key = k.scalar_text().unwrap_or("");
        if !TOP_KEYS.contains(&key) {
            cx.err(
                k.pos,
                format!(
                    "unknown key `{key}` (expected one of: {})",
                    TOP_KEYS.join(", ")
                ),
            );
        }
    }
    let index_date = match root.get("index_date") {
        None => None,
        Some(n) if n.is_null() => None,
        Some(n) => match n.scalar_text().and_then(|s| parse_iso_date(s.trim())) {
            Some(d) => Some(d),
            None => {
                cx.err(n.pos, "key `index_date`: expected an ISO date (YYYY-MM-DD)");
                None
            }
        },
    };
    let default_expectations = root
        .get("default_expectations")
        .filter(|n| !n.is_null())
        .map(Node::to_value);

    // Codelists.
    let mut codelists = BTreeMap::new();
    if let Some(node) = root.get("codelists").filter(|n| !n.is_null()) {
        match node.as_map() {
            None => cx.err(
                node.pos,
                "key `codelists`: expected a mapping of name -> codelist",
            ),
            Some(entries) => {
                for (k, v) in entries {
                    let name = k.scalar_text().unwrap_or("").to_string();
                    if let Some(cl) = load_codelist(cx, &name, v, project_dir) {
                        codelists.insert(name, cl);
                    }
                }
            }
        }
    }
    let codelist_names: Vec<String> = codelists.keys().cloned().collect();

    // Variables, with inline helpers flattened in front of their parent.
    let mut variables: Vec<Variable> = Vec::new();
    let population = match root.get("population") {
        None => {
            cx.err(root.pos, "missing required key `population`");
            None
        }
        Some(node) => {
            let mut helpers = Vec::new();
            let pop = parse_variable(
                cx,
                "population",
                root_key_mark(root, "population"),
                node,
                &mut helpers,
                false,
            );
            variables.extend(helpers);
            pop
        }
    };
    match root.get("variables") {
        None => {}
        Some(n) if n.is_null() => {}
        Some(node) => match node.as_map() {
            None => cx.err(
                node.pos,
                "key `variables`: expected a mapping of name -> definition",
            ),
            Some(entries) => {
                for (k, v) in entries {
                    let name = k.scalar_text().unwrap_or("");
                    if !check_name(cx, name, k.pos) {
                        continue;
                    }
                    let mut helpers = Vec::new();
                    let var = parse_variable(cx, name, k.pos, v, &mut helpers, false);
                    variables.extend(helpers);
                    variables.extend(var);
                }
            }
        },
    }

    // Unique names (top-level duplicates were already reported by the YAML layer).
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for v in &variables {
        if let Some(first) = seen.get(v.name.as_str()) {
            cx.err(
                Pos::new(v.line, 1),
                format!(
                    "variable `{}`: defined more than once (first at line {first})",
                    v.name
                ),
            );
        } else {
            seen.insert(&v.name, v.line);
        }
    }

    // References: codelists, expression names and types.
    let types: HashMap<String, ColumnType> = variables
        .iter()
        .map(|v| (v.name.clone(), v.column_type))
        .collect();
    let known: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
    for v in variables.iter().chain(population.iter()) {
        check_references(cx, v, &codelists, &codelist_names, &types, &known);
    }
    check_cycles(cx, &variables, population.as_ref());

    let measures = match root.get("measures") {
        None => Vec::new(),
        Some(n) if n.is_null() => Vec::new(),
        Some(node) => load_measures(cx, node, &variables),
    };

    let population = population?;
    Some(StudyDefinition {
        path: path.to_path_buf(),
        index_date,
        default_expectations,
        codelists,
        population,
        variables,
        measures,
    })
}

fn root_key_mark(root: &Node, key: &str) -> Pos {
    root.as_map()
        .and_then(|e| e.iter().find(|(k, _)| k.scalar_text() == Some(key)))
        .map_or(root.pos, |(k, _)| k.pos)
}

fn check_name(cx: &mut Ctx, name: &str, mark: Pos) -> bool {
    if RESERVED.contains(&name) {
        cx.err(
            mark,
            format!(
                "variable `{name}`: the name `{name}` is reserved (reserved: {})",
                RESERVED.join(", ")
            ),
        );
        false
    } else if !valid_name(name) {
        cx.err(
            mark,
            format!("variable `{name}`: invalid name (must match [A-Za-z_][A-Za-z0-9_]*)"),
        );
        false
    } else {
        true
    }
}

fn load_codelist(cx: &mut Ctx, name: &str, node: &Node, project_dir: &Path) -> Option<Codelist> {
    let prefix = format!("codelist `{name}`");
    let Some(entries) = node.as_map() else {
        cx.err(
            node.pos,
            format!(
                "{prefix}: expected a mapping with keys csv, system[, column, category_column]"
            ),
        );
        return None;
    };
    const KEYS: [&str; 4] = ["csv", "system", "column", "category_column"];
    for (k, _) in entries {
        let key = k.scalar_text().unwrap_or("");
        if !KEYS.contains(&key) {
            cx.err(
                k.pos,
                format!(
                    "{prefix}: unknown key `{key}` (expected one of: {})",
                    KEYS.join(", ")
                ),
            );
        }
    }
    let scalar = |cx: &mut Ctx, key: &str, required: bool| -> Option<(String, Pos)> {
        match node.get(key) {
            Some(v) if !v.is_null() => match v.scalar_text() {
                Some(s) => Some((s.to_string(), v.pos)),
                None => {
                    cx.err(v.pos, format!("{prefix}: key `{key}`: expected a string"));
                    None
                }
            },
            _ => {
                if required {
                    cx.err(node.pos, format!("{prefix}: missing required key `{key}`"));
                }
                None
            }
        }
    };
    let csv = scalar(cx, "csv", true);
    let system = scalar(cx, "system", true);
    // `column` defaults to `code`, as in cohortextractor's `codelist_from_csv`.
    let column = scalar(cx, "column", false).map_or_else(
        || files::codelist::DEFAULT_CODE_COLUMN.to_string(),
        |(c, _)| c,
    );
    let category = scalar(cx, "category_column", false);
    let system = match system {
        Some((s, mark)) => {
            match CodeSystem::parse(&s) {
                Some(sys) => Some(sys),
                None => {
                    cx.err(mark, format!("{prefix}: key `system`: unknown system `{s}` (expected ctv3 or snomedct)"));
                    None
                }
            }
        }
        None => None,
    };
    let ((csv, csv_mark), system) = (csv?, system?);
    let file = project_dir.join(&csv);
    match Codelist::from_csv(
        &file,
        system,
        &column,
        category.as_ref().map(|(c, _)| c.as_str()),
    ) {
        Ok(cl) => Some(cl),
        Err(e) => {
            cx.err(csv_mark, format!("{prefix}: key `csv`: {e}"));
            None
        }
    }
}

fn parse_variable(
    cx: &mut Ctx,
    name: &str,
    name_mark: Pos,
    node: &Node,
    helpers: &mut Vec<Variable>,
    hidden: bool,
) -> Option<Variable> {
    let prefix = format!("variable `{name}`");
    let Some(entries) = node.as_map() else {
        cx.err(
            node.pos,
            format!(
                "{prefix}: expected a mapping with one function key, found {}",
                node.kind_name()
            ),
        );
        return None;
    };
    let mut return_expectations = None;
    let mut function_entries = Vec::new();
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or("");
        if key == "return_expectations" {
            return_expectations = Some(v.to_value());
        } else if FUNCTIONS.contains(&key) {
            function_entries.push((key, k.pos, v));
        } else {
            cx.err(
                k.pos,
                format!(
                    "{prefix}: unknown function `{key}` (known functions: {})",
                    FUNCTIONS.join(", ")
                ),
            );
            return None;
        }
    }
    let (func, func_mark, args_node) = match function_entries.as_slice() {
        [] => {
            cx.err(
                name_mark,
                format!(
                    "{prefix}: no function key (expected one of: {})",
                    FUNCTIONS.join(", ")
                ),
            );
            return None;
        }
        [one] => *one,
        [_, second, ..] => {
            cx.err(
                second.1,
                format!(
                    "{prefix}: more than one function (`{}` and `{}`)",
                    function_entries[0].0, second.0
                ),
            );
            return None;
        }
    };
    let fprefix = format!("{prefix}: key `{func}`");
    let function = parse_function(cx, &fprefix, name, func, func_mark, args_node, helpers)?;
    let column_type = column_type(&function);
    Some(Variable {
        name: name.to_string(),
        line: name_mark.line,
        col: name_mark.col,
        function,
        column_type,
        hidden,
        return_expectations,
    })
}

fn column_type(f: &Function) -> ColumnType {
    match f {
        Function::RegisteredAsOf { .. }
        | Function::RegisteredWithOnePracticeBetween { .. }
        | Function::WithCompleteHistoryBetween { .. }
        | Function::Satisfying { .. } => ColumnType::Bool,
        Function::RegisteredPracticeAsOf { returning, .. } => match returning {
            PracticeReturning::PseudoId => ColumnType::Int,
            _ => ColumnType::Str,
        },
        Function::AgeAsOf { .. } => ColumnType::Int,
        Function::Sex => ColumnType::Str,
        Function::DateOfBirth { .. } => ColumnType::Date,
        Function::DiedFromAnyCause { returning, .. } => match returning {
            DiedReturning::BinaryFlag => ColumnType::Bool,
            DiedReturning::DateOfDeath => ColumnType::Date,
        },
        Function::WithTheseClinicalEvents { returning, .. } => match returning {
            EventsReturning::BinaryFlag => ColumnType::Bool,
            EventsReturning::Date => ColumnType::Date,
            EventsReturning::NumberOfMatchesInPeriod => ColumnType::Int,
            EventsReturning::Code | EventsReturning::Category => ColumnType::Str,
            EventsReturning::NumericValue => ColumnType::Float,
        },
        Function::CategorisedAs { int_keys, .. } => {
            if *int_keys {
                ColumnType::Int
            } else {
                ColumnType::Str
            }
        }
    }
}

/// Argument names each function accepts (first = the scalar shorthand, where allowed).
fn known_args(func: &str) -> &'static [&'static str] {
    match func {
        "registered_as_of" | "age_as_of" => &["date"],
        "registered_with_one_practice_between" | "with_complete_history_between" => {
            &["start_date", "end_date"]
        }
        "registered_practice_as_of" => &["date", "returning"],
        "sex" => &[],
        "date_of_birth" => &["date_format"],
        "died_from_any_cause" => &[
            "between",
            "on_or_before",
            "on_or_after",
            "returning",
            "date_format",
        ],
        "with_these_clinical_events" => &[
            "codelist",
            "between",
            "on_or_before",
            "on_or_after",
            "returning",
            "find_first_match_in_period",
            "find_last_match_in_period",
            "date_format",
            "include_date_of_match",
        ],
        "satisfying" => &["expression", "variables"],
        _ => &[],
    }
}

fn parse_function(
    cx: &mut Ctx,
    prefix: &str,
    var_name: &str,
    func: &str,
    func_mark: Pos,
    node: &Node,
    helpers: &mut Vec<Variable>,
) -> Option<Function> {
    if func == "categorised_as" {
        return parse_categorised(cx, prefix, func_mark, node, helpers);
    }
    let known = known_args(func);
    // Scalar shorthand: `age_as_of: index_date`, `satisfying: "a AND b"`.
    let shorthand;
    let mut args = Args {
        entries: Vec::new(),
        used: HashSet::new(),
    };
    if node.is_null() {
    } else if let Some(entries) = node.as_map() {
        for (k, v) in entries {
            args.entries.push((k.scalar_text().unwrap_or(""), v, k.pos));
        }
    } else if node.scalar_text().is_some()
        && matches!(func, "registered_as_of" | "age_as_of" | "satisfying")
    {
        shorthand = node;
        args.entries.push((known[0], shorthand, node.pos));
    } else {
        cx.err(
            node.pos,
            format!(
                "{prefix}: expected a mapping of arguments, found {}",
                node.kind_name()
            ),
        );
        return None;
    }
    let n_problems = cx.problems.len();
    for (k, _, mark) in &args.entries {
        if !known.contains(k) {
            let list = if known.is_empty() {
                "it takes no arguments".to_string()
            } else {
                format!("known arguments: {}", known.join(", "))
            };
            cx.err(*mark, format!("{prefix}: unknown argument `{k}` ({list})"));
        }
    }
    let required_date = |cx: &mut Ctx, args: &mut Args, arg: &'static str| -> Option<DateExpr> {
        match args.take(arg) {
            None => {
                cx.err(
                    func_mark,
                    format!("{prefix}: missing required argument `{arg}`"),
                );
                None
            }
            Some(n) => date_arg(cx, prefix, arg, n),
        }
    };
    let function = match func {
        "registered_as_of" => Function::RegisteredAsOf {
            date: required_date(cx, &mut args, "date")?,
        },
        "age_as_of" => Function::AgeAsOf {
            date: required_date(cx, &mut args, "date")?,
        },
        "registered_with_one_practice_between" | "with_complete_history_between" => {
            let a = required_date(cx, &mut args, "start_date");
            let b = required_date(cx, &mut args, "end_date");
            let (start_date, end_date) = (a?, b?);
            if func == "with_complete_history_between" {
                Function::WithCompleteHistoryBetween {
                    start_date,
                    end_date,
                }
            } else {
                Function::RegisteredWithOnePracticeBetween {
                    start_date,
                    end_date,
                }
            }
        }
        "registered_practice_as_of" => {
            let date = required_date(cx, &mut args, "date");
            let returning = match args.take("returning") {
                None => {
                    cx.err(func_mark, format!("{prefix}: missing required argument `returning` (nuts1_region_name, pseudo_id or stp_code)"));
                    None
                }
                Some(n) => choice(
                    cx,
                    prefix,
                    "returning",
                    n,
                    &[
                        ("nuts1_region_name", PracticeReturning::Nuts1RegionName),
                        ("pseudo_id", PracticeReturning::PseudoId),
                        ("stp_code", PracticeReturning::StpCode),
                    ],
                ),
            };
            Function::RegisteredPracticeAsOf {
                date: date?,
                returning: returning?,
            }
        }
        "sex" => Function::Sex,
        "date_of_birth" => Function::DateOfBirth {
            date_format: date_format(cx, prefix, &mut args, DateFormat::YearMonth)?,
        },
        "died_from_any_cause" => {
            let window = window(cx, prefix, &mut args);
            let returning = match args.take("returning") {
                None => Some(DiedReturning::BinaryFlag),
                Some(n) => choice(
                    cx,
                    prefix,
                    "returning",
                    n,
                    &[
                        ("binary_flag", DiedReturning::BinaryFlag),
                        ("date_of_death", DiedReturning::DateOfDeath),
                    ],
                ),
            };
            let date_format = date_format(cx, prefix, &mut args, DateFormat::Year);
            Function::DiedFromAnyCause {
                window: window?,
                returning: returning?,
                date_format: date_format?,
            }
        }
        "with_these_clinical_events" => {
            if let Some(n) = args.take("include_date_of_match") {
                cx.err(n.pos, format!("{prefix}: argument `include_date_of_match` is not supported: define a second variable with `returning: date` instead"));
            }
            let codelist = match args.take("codelist") {
                None => {
                    cx.err(
                        func_mark,
                        format!("{prefix}: missing required argument `codelist`"),
                    );
                    None
                }
                Some(n) => {
                    match n.scalar_text() {
                        Some(s) if !n.is_null() => Some(s.to_string()),
                        _ => {
                            cx.err(n.pos, format!("{prefix}: argument `codelist`: expected the name of a codelist"));
                            None
                        }
                    }
                }
            };
            let window = window(cx, prefix, &mut args);
            let returning = match args.take("returning") {
                None => Some(EventsReturning::BinaryFlag),
                Some(n) => choice(
                    cx,
                    prefix,
                    "returning",
                    n,
                    &[
                        ("binary_flag", EventsReturning::BinaryFlag),
                        ("date", EventsReturning::Date),
                        (
                            "number_of_matches_in_period",
                            EventsReturning::NumberOfMatchesInPeriod,
                        ),
                        ("code", EventsReturning::Code),
                        ("category", EventsReturning::Category),
                        ("numeric_value", EventsReturning::NumericValue),
                    ],
                ),
            };
            let first = bool_arg(cx, prefix, &mut args, "find_first_match_in_period");
            let last = bool_arg(cx, prefix, &mut args, "find_last_match_in_period");
            let find = match (first, last) {
                (Some(true), Some(true)) => {
                    cx.err(func_mark, format!("{prefix}: `find_first_match_in_period` and `find_last_match_in_period` are both true"));
                    None
                }
                (Some(true), _) => Some(Find::First),
                (Some(false), Some(false)) => Some(Find::Last),
                _ => Some(Find::Last),
            };
            let date_format = date_format(cx, prefix, &mut args, DateFormat::Year);
            Function::WithTheseClinicalEvents {
                codelist: codelist?,
                window: window?,
                returning: returning?,
                find: find?,
                date_format: date_format?,
            }
        }
        "satisfying" => {
            if let Some(vars) = args.take("variables") {
                parse_helpers(cx, prefix, vars, helpers);
            }
            let expression = match args.take("expression") {
                None => {
                    cx.err(
                        func_mark,
                        format!("{prefix}: missing required argument `expression`"),
                    );
                    None
                }
                Some(n) => expression_arg(cx, prefix, n),
            };
            Function::Satisfying {
                expression: expression?,
            }
        }
        _ => return None,
    };
    let _ = var_name;
    (cx.problems.len() == n_problems).then_some(function)
}

fn parse_helpers(cx: &mut Ctx, prefix: &str, node: &Node, helpers: &mut Vec<Variable>) {
    let Some(entries) = node.as_map() else {
        cx.err(
            node.pos,
            format!("{prefix}: key `variables`: expected a mapping of name -> definition"),
        );
        return;
    };
    for (k, v) in entries {
        let name = k.scalar_text().unwrap_or("");
        if !check_name(cx, name, k.pos) {
            continue;
        }
        let mut inner = Vec::new();
        let var = parse_variable(cx, name, k.pos, v, &mut inner, true);
        helpers.extend(inner);
        helpers.extend(var);
    }
}

fn parse_categorised(
    cx: &mut Ctx,
    prefix: &str,
    func_mark: Pos,
    node: &Node,
    helpers: &mut Vec<Variable>,
) -> Option<Function> {
    let Some(entries) = node.as_map() else {
        cx.err(
            node.pos,
            format!("{prefix}: expected a mapping of category -> expression"),
        );
        return None;
    };
    let n_problems = cx.problems.len();
    let mut cases = Vec::new();
    let mut defaults: Vec<(String, Pos)> = Vec::new();
    let mut int_keys = true;
    for (k, v) in entries {
        let Some(key) = k.scalar_text() else {
            cx.err(k.pos, format!("{prefix}: category keys must be scalars"));
            continue;
        };
        if key == "variables" && v.as_map().is_some() {
            parse_helpers(cx, prefix, v, helpers);
            continue;
        }
        let int_key = k.as_int();
        int_keys &= int_key.is_some();
        let label = int_key.map_or_else(|| key.to_string(), |i| i.to_string());
        if v.scalar_text() == Some("DEFAULT") && !v.quoted {
            defaults.push((label, k.pos));
        } else {
            if let Some(e) = expression_arg(cx, &format!("{prefix}: category `{key}`"), v) {
                cases.push((label, e, k.pos));
            }
        }
    }
    match defaults.as_slice() {
        [] => cx.err(
            func_mark,
            format!("{prefix}: no category is DEFAULT (exactly one must be)"),
        ),
        [_] => {}
        [_, second, ..] => cx.err(
            second.1,
            format!(
                "{prefix}: more than one DEFAULT category (`{}` and `{}`)",
                defaults[0].0, second.0
            ),
        ),
    }
    if cases.is_empty() && defaults.is_empty() {
        int_keys = false;
    }
    if cx.problems.len() != n_problems {
        return None;
    }
    let mut labels = HashSet::new();
    for (label, _, mark) in &cases {
        if !labels.insert(label.clone()) || defaults[0].0 == *label {
            cx.err(
                *mark,
                format!("{prefix}: category `{label}` defined more than once"),
            );
        }
    }
    Some(Function::CategorisedAs {
        cases: cases.into_iter().map(|(l, e, _)| (l, e)).collect(),
        default: defaults.swap_remove(0).0,
        int_keys,
    })
}

fn expression_arg(cx: &mut Ctx, prefix: &str, node: &Node) -> Option<Expr> {
    let Some(text) = node.scalar_text().filter(|_| !node.is_null()) else {
        cx.err(
            node.pos,
            format!(
                "{prefix}: expected an expression, found {}",
                node.kind_name()
            ),
        );
        return None;
    };
    match Expr::parse(text) {
        Ok(e) => Some(e),
        Err(e) => {
            cx.err(node.pos, format!("{prefix}: {e}"));
            None
        }
    }
}

fn date_arg(cx: &mut Ctx, prefix: &str, arg: &str, node: &Node) -> Option<DateExpr> {
    let Some(text) = node.scalar_text().filter(|_| !node.is_null()) else {
        cx.err(
            node.pos,
            format!(
                "{prefix}: argument `{arg}`: expected a date expression, found {}",
                node.kind_name()
            ),
        );
        return None;
    };
    match DateExpr::parse(text) {
        Ok(d) => Some(d),
        Err(e) => {
            cx.err(node.pos, format!("{prefix}: argument `{arg}`: {e}"));
            None
        }
    }
}

fn choice<T: Copy>(
    cx: &mut Ctx,
    prefix: &str,
    arg: &str,
    node: &Node,
    options: &[(&str, T)],
) -> Option<T> {
    let text = node.scalar_text().unwrap_or("");
    match options.iter().find(|(n, _)| *n == text) {
        Some((_, v)) => Some(*v),
        None => {
            cx.err(
                node.pos,
                format!(
                    "{prefix}: argument `{arg}`: unknown value `{text}` (expected one of: {})",
                    options
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            None
        }
    }
}

fn bool_arg(cx: &mut Ctx, prefix: &str, args: &mut Args, arg: &'static str) -> Option<bool> {
    let node = args.take(arg)?;
    match node.as_bool() {
        Some(b) => Some(b),
        _ => {
            cx.err(
                node.pos,
                format!("{prefix}: argument `{arg}`: expected true or false"),
            );
            None
        }
    }
}

fn date_format(
    cx: &mut Ctx,
    prefix: &str,
    args: &mut Args,
    default: DateFormat,
) -> Option<DateFormat> {
    match args.take("date_format") {
        None => Some(default),
        Some(n) if n.is_null() => Some(default),
        Some(n) => {
            match n.scalar_text().and_then(DateFormat::parse) {
                Some(f) => Some(f),
                None => {
                    cx.err(n.pos, format!("{prefix}: argument `date_format`: expected YYYY, YYYY-MM or YYYY-MM-DD"));
                    None
                }
            }
        }
    }
}

fn window(cx: &mut Ctx, prefix: &str, args: &mut Args) -> Option<Window> {
    let between = args.take("between");
    let before = args.take("on_or_before");
    let after = args.take("on_or_after");
    let given: Vec<&str> = [
        ("between", &between),
        ("on_or_before", &before),
        ("on_or_after", &after),
    ]
    .iter()
    .filter(|(_, n)| n.is_some_and(|n| !n.is_null()))
    .map(|(k, _)| *k)
    .collect();
    if given.len() > 1 {
        let mark = between
            .or(before)
            .or(after)
            .map(|n| n.pos)
            .unwrap_or_default();
        cx.err(mark, format!("{prefix}: only one of `between`, `on_or_before`, `on_or_after` may be given (found {})", given.join(", ")));
        return None;
    }
    if let Some(n) = between.filter(|n| !n.is_null()) {
        return match n.as_seq() {
            Some([a, b]) => {
                let a = date_arg(cx, prefix, "between", a);
                let b = date_arg(cx, prefix, "between", b);
                Some(Window::Between(a?, b?))
            }
            _ => {
                cx.err(
                    n.pos,
                    format!(
                        "{prefix}: argument `between`: expected a list of two dates [start, end]"
                    ),
                );
                None
            }
        };
    }
    if let Some(n) = before.filter(|n| !n.is_null()) {
        return Some(Window::OnOrBefore(date_arg(cx, prefix, "on_or_before", n)?));
    }
    if let Some(n) = after.filter(|n| !n.is_null()) {
        return Some(Window::OnOrAfter(date_arg(cx, prefix, "on_or_after", n)?));
    }
    Some(Window::All)
}

fn check_references(
    cx: &mut Ctx,
    v: &Variable,
    codelists: &BTreeMap<String, Codelist>,
    codelist_names: &[String],
    types: &HashMap<String, ColumnType>,
    known: &[&str],
) {
    let prefix = format!("variable `{}`: key `{}`", v.name, v.function.name());
    let (line, col) = (v.line, v.col);
    let err = |cx: &mut Ctx, message: String| {
        cx.err(Pos::new(line, col), message);
    };
    match &v.function {
        Function::WithTheseClinicalEvents {
            codelist,
            returning,
            ..
        } => match codelists.get(codelist) {
            None => err(
                cx,
                format!(
                    "{prefix}: unknown codelist `{codelist}` (known codelists: {})",
                    if codelist_names.is_empty() {
                        "none".to_string()
                    } else {
                        codelist_names.join(", ")
                    }
                ),
            ),
            Some(cl) => {
                if *returning == EventsReturning::Category && cl.categories.is_none() {
                    err(cx, format!("{prefix}: `returning: category` needs a codelist with a `category_column`, and `{codelist}` has none"));
                }
            }
        },
        Function::CategorisedAs { cases, .. } => {
            for (label, e) in cases {
                check_expr(
                    cx,
                    &format!("{prefix}: category `{label}`"),
                    (line, col),
                    e,
                    types,
                    known,
                );
            }
        }
        Function::Satisfying { expression } => {
            check_expr(cx, &prefix, (line, col), expression, types, known);
        }
        _ => {}
    }
}

fn check_expr(
    cx: &mut Ctx,
    prefix: &str,
    (line, col): (usize, usize),
    e: &Expr,
    types: &HashMap<String, ColumnType>,
    known: &[&str],
) {
    let result = e.check(&|n: &str| types.get(n).map(|t| t.expr_type()));
    if let Err(msg) = result {
        let message = if msg.starts_with("unknown variable") {
            format!(
                "{prefix}: {msg} in expression `{e}` (known variables: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
        } else {
            format!("{prefix}: {msg}")
        };
        cx.err(Pos::new(line, col), message);
    }
    let _ = ExprType::Bool;
}

fn check_cycles(cx: &mut Ctx, variables: &[Variable], population: Option<&Variable>) {
    let by_name: HashMap<&str, &Variable> = variables
        .iter()
        .chain(population)
        .map(|v| (v.name.as_str(), v))
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state: HashMap<&str, u8> = HashMap::new();
    let mut reported: HashSet<String> = HashSet::new();
    fn visit<'a>(
        name: &'a str,
        by_name: &HashMap<&'a str, &'a Variable>,
        state: &mut HashMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        cycles: &mut Vec<Vec<&'a str>>,
    ) {
        match state.get(name) {
            Some(2) => return,
            Some(1) => {
                if let Some(pos) = stack.iter().position(|n| *n == name) {
                    let mut cycle = stack[pos..].to_vec();
                    cycle.push(name);
                    cycles.push(cycle);
                }
                return;
            }
            _ => {}
        }
        let Some(v) = by_name.get(name) else { return };
        state.insert(name, 1);
        stack.push(name);
        for dep in v.function.dependencies() {
            visit(dep, by_name, state, stack, cycles);
        }
        stack.pop();
        state.insert(name, 2);
    }
    let mut cycles = Vec::new();
    for v in variables.iter().chain(population) {
        visit(&v.name, &by_name, &mut state, &mut Vec::new(), &mut cycles);
    }
    for cycle in cycles {
        let first = cycle[0];
        let key = {
            let mut members: Vec<&str> = cycle[..cycle.len() - 1].to_vec();
            members.sort_unstable();
            members.join(",")
        };
        if !reported.insert(key) {
            continue;
        }
        let v = by_name[first];
        let message = if cycle.len() == 2 {
            format!(
                "variable `{first}`: key `{}`: depends on itself",
                v.function.name()
            )
        } else {
            format!(
                "variable `{first}`: key `{}`: depends on itself through {}",
                v.function.name(),
                cycle.join(" -> ")
            )
        };
        cx.err(Pos::new(v.line, v.col), message);
    }
}

fn load_measures(cx: &mut Ctx, node: &Node, variables: &[Variable]) -> Vec<MeasureDef> {
    let Some(items) = node.as_seq() else {
        cx.err(node.pos, "key `measures`: expected a list of measures");
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
    let known = outputs
        .iter()
        .map(|v| v.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut out: Vec<MeasureDef> = Vec::new();
    let mut seen_ids: Vec<(String, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut prefix = format!("measure #{}", i + 1);
        let Some(entries) = item.as_map() else {
            cx.err(
                item.pos,
                format!(
                    "{prefix}: expected a mapping with keys id, numerator, denominator, group_by"
                ),
            );
            continue;
        };
        let n_problems = cx.problems.len();
        let id = item
            .get("id")
            .and_then(|n| n.scalar_text().map(|s| (s.to_string(), n.pos)));
        match &id {
            None => cx.err(item.pos, format!("{prefix}: missing required key `id`")),
            Some((id, mark)) => {
                prefix = format!("measure `{id}`");
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    cx.err(
                        *mark,
                        format!("{prefix}: key `id`: must match [A-Za-z0-9_]+"),
                    );
                } else if let Some((_, first)) = seen_ids.iter().find(|(seen, _)| seen == id) {
                    cx.err(
                        *mark,
                        format!("{prefix}: key `id`: duplicate id (first at line {first})"),
                    );
                }
                seen_ids.push((id.clone(), mark.line));
            }
        }
        for (k, _) in entries {
            let key = k.scalar_text().unwrap_or("");
            if !KEYS.contains(&key) {
                cx.err(
                    k.pos,
                    format!(
                        "{prefix}: unknown key `{key}` (expected one of: {})",
                        KEYS.join(", ")
                    ),
                );
            }
        }
        let var_ref = |cx: &mut Ctx, key: &str, allow_population: bool| -> Option<String> {
            let Some(n) = item.get(key) else {
                cx.err(item.pos, format!("{prefix}: missing required key `{key}`"));
                return None;
            };
            let name = n.scalar_text().filter(|_| !n.is_null()).unwrap_or("");
            if allow_population && name == "population" {
                return Some(name.to_string());
            }
            match outputs.iter().find(|v| v.name == name) {
                None => {
                    cx.err(n.pos, format!("{prefix}: key `{key}`: unknown variable `{name}` (known variables: {known})"));
                    None
                }
                Some(v) if matches!(v.column_type, ColumnType::Str | ColumnType::Date) => {
                    cx.err(n.pos, format!("{prefix}: key `{key}`: variable `{name}` is a {} column; it must be numeric (bool, int or float)", v.column_type.name()));
                    None
                }
                Some(_) => Some(name.to_string()),
            }
        };
        let numerator = var_ref(cx, "numerator", false);
        let denominator = var_ref(cx, "denominator", true);
        let group_by = match item.get("group_by") {
            None => Some(GroupBy::None),
            Some(n) if n.is_null() => Some(GroupBy::None),
            Some(n) => {
                let names: Vec<&Node> = match &n.value {
                    Value::Scalar(..) => vec![n],
                    Value::Seq(items) => items.iter().collect(),
                    Value::Map(_) => {
                        cx.err(n.pos, format!("{prefix}: key `group_by`: expected a list of variable names or `population`"));
                        Vec::new()
                    }
                };
                if names.len() == 1 && names[0].scalar_text() == Some("population") {
                    Some(GroupBy::Population)
                } else {
                    let mut vars = Vec::new();
                    for g in names {
                        let name = g.scalar_text().unwrap_or("");
                        if !outputs.iter().any(|v| v.name == name) {
                            cx.err(g.pos, format!("{prefix}: key `group_by`: unknown variable `{name}` (known variables: {known})"));
                        } else if vars.iter().any(|v| v == name) {
                            cx.err(
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
                _ => {
                    cx.err(
                        n.pos,
                        format!("{prefix}: key `small_number_suppression`: expected true or false"),
                    );
                    false
                }
            },
        };
        if cx.problems.len() != n_problems {
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
