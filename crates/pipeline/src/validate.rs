//! Validation of `project.yaml` with OpenSAFELY's rules and message texts, reporting every
//! problem at once with its position.

use std::collections::{BTreeSet, HashMap};

use crate::graph;
use crate::paths;
use crate::project::{
    option_value, Action, Command, Features, Level, Output, Project, LATEST_VERSION,
};
use crate::shell;
use crate::suggest;
use files::python_float_repr;
use yaml::{Diagnostic, Node, Pos, Scalar, Value};

/// The result of validating a `project.yaml`.
#[derive(Clone, Debug)]
pub struct Validation {
    /// The project, when there is no error.
    pub project: Option<Project>,
    /// Errors and warnings, errors in OpenSAFELY's checking order (so the first error is the
    /// one OpenSAFELY would report), then warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// Whether there is no error.
    pub fn is_valid(&self) -> bool {
        self.project.is_some()
    }
}

const ACTION_KEYS: [&str; 5] = ["run", "needs", "outputs", "config", "dummy_data_file"];

/// Validates the text of a `project.yaml`; the diagnostics name the file `project.yaml`
/// ([`yaml::Diagnostic::in_file`] names another).
pub fn validate(text: &str) -> Validation {
    let mut v = Validator::default();
    let project = v.project(text);
    let diagnostics: Vec<Diagnostic> = v
        .errors
        .into_iter()
        .chain(v.warnings)
        .map(|d| d.in_file("project.yaml"))
        .collect();
    Validation {
        project: if diagnostics.iter().any(Diagnostic::is_error) {
            None
        } else {
            project
        },
        diagnostics,
    }
}

#[derive(Default)]
struct Validator {
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// What the per-action pass learnt about an action, for the checks across actions.
struct Partial<'a> {
    name: String,
    pos: Pos,
    run: Option<(&'a Node, Command)>,
    run_raw: Option<&'a str>,
    needs: Vec<(&'a str, Pos)>,
    outputs: Vec<(Output, Pos)>,
    config: Option<String>,
    dummy_data_file: Option<String>,
}

/// Python's `float(x)` for a YAML node.
fn python_float(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Scalar(_, Scalar::Int(i)) => Some(*i as f64),
        Value::Scalar(_, Scalar::Float(f)) => Some(*f),
        Value::Scalar(_, Scalar::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Scalar(text, Scalar::Str) => text.trim().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// Python's `int(x)` for a YAML node, limited to non-negative results.
fn python_int(node: &Node) -> Option<u64> {
    match &node.value {
        Value::Scalar(_, Scalar::Int(i)) => u64::try_from(*i).ok(),
        Value::Scalar(_, Scalar::Float(f)) if f.is_finite() && *f > -1.0 => Some(f.trunc() as u64),
        Value::Scalar(_, Scalar::Bool(b)) => Some(u64::from(*b)),
        Value::Scalar(text, Scalar::Str) => {
            let t = text.trim();
            let t = t.strip_prefix('+').unwrap_or(t);
            if t.is_empty() || t.starts_with('_') || t.ends_with('_') {
                return None;
            }
            t.replace('_', "").parse().ok()
        }
        _ => None,
    }
}

fn keys(map: &[(Node, Node)]) -> impl Iterator<Item = (&str, &Node, &Node)> {
    map.iter()
        .map(|(k, v)| (k.scalar_text().unwrap_or(""), k, v))
}

/// The position to report for a value: its own, unless it is an empty scalar (whose marker
/// yaml-rust2 puts at the next token), then its key's.
fn value_pos(key: &Node, value: &Node) -> Pos {
    if value.is_null() && value.scalar_text() == Some("") {
        key.pos
    } else {
        value.pos
    }
}

/// Whether `version` is OpenSAFELY's tag form `v[\d.]+(-pre)?|dev|latest`.
fn valid_tag(tag: &str) -> bool {
    if tag == "dev" || tag == "latest" {
        return true;
    }
    let Some(rest) = tag.strip_prefix('v') else {
        return false;
    };
    let rest = rest.strip_suffix("-pre").unwrap_or(rest);
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// `re.search(r"IMAGE:\S+ COMMAND", raw)` where `images` alternates image names and
/// `commands` alternates commands.
fn run_matches(raw: &str, images: &[&str], commands: &[&str]) -> bool {
    images.iter().any(|image| {
        let needle = format!("{image}:");
        raw.match_indices(&needle).any(|(i, _)| {
            let rest = &raw[i + needle.len()..];
            let tag_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if tag_len == 0 {
                return false;
            }
            let after = &rest[tag_len..];
            after
                .strip_prefix(' ')
                .is_some_and(|a| commands.iter().any(|c| a.starts_with(c)))
        })
    })
}

impl Validator {
    fn error(&mut self, pos: Pos, msg: impl Into<String>) {
        self.errors.push(Diagnostic::error(pos, msg));
    }

    fn project(&mut self, text: &str) -> Option<Project> {
        let (root, diags) = yaml::parse(text);
        self.errors.extend(diags);
        let Some(root) = root else {
            if self.errors.is_empty() {
                self.error(
                    Pos::START,
                    "project.yaml is empty: it must be a mapping with `version` and `actions`",
                );
            }
            return None;
        };
        let Some(top) = root.as_map() else {
            self.error(
                root.pos,
                format!(
                    "project.yaml must be a mapping with `version` and `actions`, but it is {}",
                    root.kind_name()
                ),
            );
            return None;
        };

        let unknown: Vec<(&str, Pos)> = keys(top)
            .filter(|(k, _, _)| !["version", "actions", "expectations"].contains(k))
            .map(|(k, n, _)| (k, n.pos))
            .collect();
        if let Some((_, pos)) = unknown.first() {
            let names: Vec<&str> = unknown.iter().map(|(k, _)| *k).collect();
            self.error(
                *pos,
                format!("Unexpected parameters ({}) in project", names.join(", ")),
            );
        }

        let version = self.version(&root);
        // With no usable version, only the checks every version shares are made.
        let features = version.map_or(
            Features {
                unique_output_path: false,
                expectations_population: false,
                remove_cohortextractor: false,
                remove_run_all_action: false,
                remove_latest_tag: false,
            },
            Features::for_version,
        );

        let actions_node = root.entry("actions");
        let action_map = match actions_node {
            Some((_, v)) if v.as_map().is_some() => v.as_map(),
            other => {
                let pos = other.map_or(Pos::START, |(k, v)| value_pos(k, v));
                self.error(
                    pos,
                    "Project `actions` section must be a dictionary of key/value pairs",
                );
                None
            }
        };

        let mut partials = Vec::new();
        for (key, value) in action_map.unwrap_or_default() {
            let name = key.scalar_text().unwrap_or("").to_string();
            if let Some(p) = self.action(&name, key, value, features) {
                partials.push(p);
            }
        }

        self.across_actions(&partials, features);
        let population_size = self.expectations(&root, features, version.is_some());

        let edges: Vec<Vec<(usize, Pos)>> = partials
            .iter()
            .map(|p| {
                p.needs
                    .iter()
                    .filter_map(|(n, pos)| {
                        partials
                            .iter()
                            .position(|q| q.name == *n)
                            .map(|i| (i, *pos))
                    })
                    .collect()
            })
            .collect();
        for cycle in graph::cycles(&edges) {
            let path: Vec<&str> = cycle
                .iter()
                .map(|&i| partials[i].name.as_str())
                .chain(std::iter::once(partials[cycle[0]].name.as_str()))
                .collect();
            let next = *cycle.get(1).unwrap_or(&cycle[0]);
            let pos = edges[cycle[0]]
                .iter()
                .find(|(j, _)| *j == next)
                .map_or(partials[cycle[0]].pos, |(_, p)| *p);
            self.error(pos, format!("dependency cycle: {}", path.join(" -> ")));
        }

        if !self.errors.is_empty() {
            return None;
        }
        let actions = partials
            .into_iter()
            .filter(|p| p.name != "run_all")
            .filter_map(|p| {
                Some(Action {
                    name: p.name,
                    pos: p.pos,
                    run: p.run?.1,
                    needs: p.needs.iter().map(|(n, _)| n.to_string()).collect(),
                    outputs: p.outputs.into_iter().map(|(o, _)| o).collect(),
                    config: p.config,
                    dummy_data_file: p.dummy_data_file,
                })
            })
            .collect();
        Some(Project {
            version: version.unwrap_or(f64::from(LATEST_VERSION)),
            features,
            population_size,
            actions,
        })
    }

    fn version(&mut self, root: &Node) -> Option<f64> {
        let Some((key, node)) = root.entry("version") else {
            self.error(
                Pos::START,
                format!("Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is {LATEST_VERSION})"),
            );
            return None;
        };
        let pos = value_pos(key, node);
        let latest = f64::from(LATEST_VERSION);
        match python_float(node) {
            Some(v) if v.is_finite() && (1.0..=latest).contains(&v) => {
                if v != latest {
                    self.warnings.push(Diagnostic::warning(
                        pos,
                        format!("Your project file is using an old version ({}); consider updating to version {LATEST_VERSION}", python_float_repr(v)),
                    ));
                }
                Some(v)
            }
            Some(v) if v > latest => {
                self.error(
                    pos,
                    format!(
                        "The latest version is v{LATEST_VERSION}, but got v{}",
                        python_float_repr(v)
                    ),
                );
                None
            }
            _ => {
                self.error(
                    pos,
                    format!("`version` must be a number between 1 and {LATEST_VERSION}"),
                );
                None
            }
        }
    }

    fn action<'a>(
        &mut self,
        name: &str,
        key: &'a Node,
        value: &'a Node,
        features: Features,
    ) -> Option<Partial<'a>> {
        if name == "run_all" {
            if features.remove_run_all_action {
                self.error(key.pos, "`run_all` is a reserved action name and is not allowed for user-defined actions.");
            } else {
                self.warnings.push(Diagnostic::warning(key.pos, "`run_all` is a reserved action name; user-defined actions with this name are ignored and will raise an error in later versions."));
            }
        }
        let Some(map) = value.as_map() else {
            self.error(
                value_pos(key, value),
                format!("Configuration for action {name} must be a dictionary of key/value pairs"),
            );
            return None;
        };
        for required in ["run", "outputs"] {
            if value.get(required).is_none() {
                self.error(
                    key.pos,
                    format!("Action {name} must contain a configuration for '{required}'"),
                );
            }
        }
        let unknown: Vec<(&str, Pos)> = keys(map)
            .filter(|(k, _, _)| !ACTION_KEYS.contains(k))
            .map(|(k, n, _)| (k, n.pos))
            .collect();
        if let Some((_, pos)) = unknown.first() {
            let names: Vec<&str> = unknown.iter().map(|(k, _)| *k).collect();
            let mut d = Diagnostic::error(
                *pos,
                format!(
                    "Unexpected parameters ({}) in action {name}",
                    names.join(", ")
                ),
            );
            if let Some(s) = suggest::closest(names[0], ACTION_KEYS) {
                d = d.with_hint(format!("did you mean `{s}`?"));
            }
            self.errors.push(d);
        }

        let mut partial = Partial {
            name: name.to_string(),
            pos: key.pos,
            run: None,
            run_raw: None,
            needs: Vec::new(),
            outputs: Vec::new(),
            config: None,
            dummy_data_file: None,
        };

        if let Some((k, outputs)) = value.entry("outputs") {
            match outputs.as_map() {
                Some(levels) => partial.outputs = self.outputs(name, k, levels),
                None => self.error(
                    value_pos(k, outputs),
                    format!("`outputs` section for action {name} must be a dictionary of key/value pairs"),
                ),
            }
        }
        if let Some((k, run)) = value.entry("run") {
            match run.as_str() {
                Some(raw) => {
                    partial.run_raw = Some(raw);
                    partial.run = self.command(name, run, raw).map(|c| (run, c));
                }
                None => self.error(
                    value_pos(k, run),
                    format!("`run` section for action {name} must be a string"),
                ),
            }
        }
        if let Some((k, needs)) = value.entry("needs") {
            match needs.as_seq() {
                Some(items) => {
                    for item in items {
                        match item.as_str() {
                            Some(need) if need.contains(' ') => self.error(
                                item.pos,
                                format!("`needs` actions should be separated with commas, but {name} needs `{need}`"),
                            ),
                            Some(need) => partial.needs.push((need, item.pos)),
                            None => self.error(
                                item.pos,
                                format!(
                                    "`needs` entries for action {name} must be action names, but one is {}",
                                    item.kind_name()
                                ),
                            ),
                        }
                    }
                }
                None => self.error(
                    value_pos(k, needs),
                    format!("`needs` section for action {name} must be a list"),
                ),
            }
        }
        if let Some((k, config)) = value.entry("config") {
            match config.as_map() {
                Some(_) => partial.config = Some(config.to_python_json()),
                None => self.error(
                    value_pos(k, config),
                    format!("`config` section for action {name} must be a dictionary of key/value pairs"),
                ),
            }
        }
        if let Some((k, file)) = value.entry("dummy_data_file") {
            match file.as_str() {
                Some(f) => partial.dummy_data_file = Some(f.to_string()),
                None => self.error(
                    value_pos(k, file),
                    format!("`dummy_data_file` section for action {name} must be a string"),
                ),
            }
        }
        if let Some(raw) = partial.run_raw {
            let pos = value.entry("run").map_or(key.pos, |(_, r)| r.pos);
            self.extractor_rules(name, raw, pos, &partial);
        }
        Some(partial)
    }

    fn outputs(&mut self, name: &str, key: &Node, levels: &[(Node, Node)]) -> Vec<(Output, Pos)> {
        let mut out = Vec::new();
        if !keys(levels).any(|(k, _, _)| Level::from_key(k).is_some()) {
            self.error(
                key.pos,
                "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive",
            );
            return out;
        }
        let unknown: Vec<(&str, Pos)> = keys(levels)
            .filter(|(k, _, _)| Level::from_key(k).is_none())
            .map(|(k, n, _)| (k, n.pos))
            .collect();
        if let Some((_, pos)) = unknown.first() {
            let names: Vec<&str> = unknown.iter().map(|(k, _)| *k).collect();
            self.error(
                *pos,
                format!(
                    "Unexpected parameters ({}) in `outputs` section for action {name}",
                    names.join(", ")
                ),
            );
        }
        for (level_name, level_key, patterns) in keys(levels) {
            let Some(level) = Level::from_key(level_name) else {
                continue;
            };
            let Some(patterns) = patterns.as_map() else {
                self.error(
                    value_pos(level_key, patterns),
                    format!("`{level_name}` section for action {name} must be a dictionary of key/value pairs"),
                );
                continue;
            };
            for (label, label_key, pattern) in keys(patterns) {
                let Some(p) = pattern.as_str() else {
                    self.error(
                        value_pos(label_key, pattern),
                        format!("`{label}` output for action {name} must be a string"),
                    );
                    continue;
                };
                if let Some(reason) =
                    paths::check_output_pattern(p, level == Level::ModeratelySensitive)
                {
                    self.error(pattern.pos, format!("Output path {p} is invalid: {reason}"));
                    continue;
                }
                out.push((
                    Output {
                        level,
                        label: label.to_string(),
                        pattern: p.to_string(),
                    },
                    pattern.pos,
                ));
            }
        }
        out
    }

    fn command(&mut self, name: &str, node: &Node, raw: &str) -> Option<Command> {
        let empty = format!("run must have a value, {name} has an empty run key");
        if raw.trim().is_empty() {
            self.error(node.pos, empty);
            return None;
        }
        let words = match shell::split(raw) {
            Ok(words) => words,
            Err(err) => {
                self.errors.push(
                    Diagnostic::error(
                        node.pos,
                        format!("`run` for action {name} cannot be split into words: {err}"),
                    )
                    .with_hint("check the quotes in the command"),
                );
                return None;
            }
        };
        let Some((first, args)) = words.split_first() else {
            self.error(node.pos, empty);
            return None;
        };
        let (image, tag) = first.split_once(':').unwrap_or((first.as_str(), ""));
        if !valid_tag(tag) {
            self.error(
                node.pos,
                format!("Action command {image} must have a version specified in the form :vN (e.g. python:v2)"),
            );
            return None;
        }
        Some(Command {
            raw: raw.to_string(),
            image: image.to_string(),
            tag: tag.to_string(),
            args: args.to_vec(),
        })
    }

    fn extractor_rules(&mut self, name: &str, raw: &str, pos: Pos, p: &Partial<'_>) {
        if p.outputs.is_empty() {
            return;
        }
        let levels: BTreeSet<Level> = p.outputs.iter().map(|(o, _)| o.level).collect();
        if run_matches(raw, &["cohortextractor"], &["generate_cohort"]) {
            if levels.len() == 1 {
                // In the order the outputs are written, as OpenSAFELY lists them.
                let mut dirs: Vec<String> = Vec::new();
                for (o, _) in &p.outputs {
                    let dir = paths::parent(&o.pattern);
                    if !dirs.contains(&dir) {
                        dirs.push(dir);
                    }
                }
                let has_output_dir = p.run.as_ref().is_some_and(|(_, c)| {
                    c.args
                        .iter()
                        .any(|a| a == "--output-dir" || a.starts_with("--output-dir="))
                });
                if dirs.len() > 1 && !has_output_dir {
                    let list: Vec<String> = dirs.iter().map(|d| format!(" - {d}/")).collect();
                    self.error(
                        pos,
                        format!(
                            "generate_cohort command should produce output in only one directory, found {}:\n{}",
                            dirs.len(),
                            list.join("\n")
                        ),
                    );
                }
            } else {
                self.error(
                    pos,
                    format!(
                        "A `generate_cohort` action must have exactly one output; {name} had {}",
                        levels.len()
                    ),
                );
            }
        } else if run_matches(
            raw,
            &["ehrql", "databuilder"],
            &["generate-dataset", "generate_dataset"],
        ) {
            if levels.iter().any(|l| *l != Level::HighlySensitive) {
                self.error(
                    pos,
                    format!("`{name}` action uses `generate-dataset` and so all outputs must be labelled `highly_sensitive`"),
                );
                return;
            }
            let Some((_, command)) = &p.run else { return };
            let Some(spec) = option_value(&command.args, "--output") else {
                self.error(
                    pos,
                    format!("`{name}` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored"),
                );
                return;
            };
            let patterns: Vec<&str> = p.outputs.iter().map(|(o, _)| o.pattern.as_str()).collect();
            let mismatch = match spec.rsplit_once(':') {
                Some((dir, ext)) if !ext.contains('/') => {
                    let dir = dir.trim_end_matches('/');
                    let expected = format!("{dir}/*.{ext}");
                    let bad: Vec<&str> = patterns
                        .iter()
                        .copied()
                        .filter(|pat| !fnmatch(&expected, pat))
                        .collect();
                    (!bad.is_empty()).then(|| (bad.join(", "), format!("{dir}/:{ext}")))
                }
                _ => (!patterns.contains(&spec)).then(|| (patterns.join(", "), spec.to_string())),
            };
            if let Some((got, expected)) = mismatch {
                self.error(
                    pos,
                    format!("output specification must match the `--output` argument in the `run` command\n              got: {got}\nbut was expecting: {expected}"),
                );
            }
        }
    }

    fn across_actions(&mut self, partials: &[Partial<'_>], features: Features) {
        for p in partials {
            let Some((node, command)) = &p.run else {
                continue;
            };
            if features.remove_cohortextractor && command.image.starts_with("cohortextractor") {
                self.error(
                    node.pos,
                    format!("Action {} uses cohortextractor actions, which are not supported in this version.", p.name),
                );
            }
            if features.remove_latest_tag && command.tag == "latest" {
                self.error(
                    node.pos,
                    format!("Action {} uses `{}:latest`, which is not supported. Provide a version e.g. `:v2` instead", p.name, command.image),
                );
            }
        }
        let mut runs: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in partials {
            let Some(raw) = p.run_raw else { continue };
            let earlier = runs.entry(raw).or_default();
            if !earlier.is_empty() {
                let pos = p.run.as_ref().map_or(p.pos, |(n, _)| n.pos);
                self.error(
                    pos,
                    format!(
                        "Action {} has the same 'run' command as other actions: {}",
                        p.name,
                        earlier.join(", ")
                    ),
                );
            }
            earlier.push(&p.name);
        }
        if features.unique_output_path {
            let mut seen = BTreeSet::new();
            for p in partials {
                for (o, pos) in &p.outputs {
                    if !seen.insert(o.pattern.as_str()) {
                        self.error(*pos, format!("Output path {} is not unique", o.pattern));
                    }
                }
            }
        }
        let names: Vec<&str> = partials.iter().map(|p| p.name.as_str()).collect();
        for p in partials {
            for (need, pos) in &p.needs {
                if !names.contains(need) {
                    let mut d = Diagnostic::error(
                        *pos,
                        format!(
                            "Action `{}` references an unknown action in its `needs` list: {need}",
                            p.name
                        ),
                    );
                    if let Some(s) = suggest::closest(need, names.iter().copied()) {
                        d = d.with_hint(format!("did you mean `{s}`?"));
                    }
                    self.errors.push(d);
                }
            }
        }
    }

    fn expectations(&mut self, root: &Node, features: Features, known: bool) -> Option<u64> {
        let entry = root.entry("expectations");
        if known && !features.expectations_population && !features.remove_cohortextractor {
            // Versions 1 and 2 ignore the section and use 1000.
            return Some(1000);
        }
        if features.remove_cohortextractor {
            if let Some((k, _)) = entry {
                self.error(k.pos, "Project includes `expectations` section, which is not supported in this version. This section is only applicable to deprecated cohortextractor actions; you can safely remove it.");
            }
            return None;
        }
        let Some((key, section)) = entry else {
            if features.expectations_population {
                self.error(Pos::START, "Project must include `expectations` section");
            }
            return None;
        };
        let Some(map) = section.as_map() else {
            self.error(
                value_pos(key, section),
                "Project `expectations` section must be a dictionary of key/value pairs",
            );
            return None;
        };
        let population = section.entry("population_size");
        if population.is_none() {
            self.error(
                key.pos,
                "Project `expectations` section must include `population_size` section",
            );
        }
        let unknown: Vec<(&str, Pos)> = keys(map)
            .filter(|(k, _, _)| *k != "population_size")
            .map(|(k, n, _)| (k, n.pos))
            .collect();
        if let Some((_, pos)) = unknown.first() {
            let names: Vec<&str> = unknown.iter().map(|(k, _)| *k).collect();
            self.error(
                *pos,
                format!(
                    "Unexpected parameters ({}) in project `expectations` section",
                    names.join(", ")
                ),
            );
        }
        let (pk, size) = population?;
        match python_int(size) {
            Some(n) => Some(n),
            None => {
                self.error(
                    value_pos(pk, size),
                    "Project expectations population size must be a number",
                );
                None
            }
        }
    }
}

/// Python's `fnmatch.fnmatch` for `*` patterns (where `*` may cross `/`).
fn fnmatch(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else {
        return name.is_empty();
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for ok in ["v2", "v1.2", "v0.0.33", "v2-pre", "dev", "latest"] {
            assert!(valid_tag(ok), "{ok}");
        }
        for bad in ["", "3.8", "v", "v2:v3", "V2", "v2-rc"] {
            assert!(!valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn fnmatch_star_crosses_slashes() {
        assert!(fnmatch("output/*.csv", "output/a/b.csv"));
        assert!(fnmatch("output/*.csv", "output/measure_*.csv"));
        assert!(!fnmatch("output/*.csv", "output/a.arrow"));
    }

    #[test]
    fn run_regex() {
        assert!(run_matches(
            "cohortextractor:latest generate_cohort --x",
            &["cohortextractor"],
            &["generate_cohort"]
        ));
        assert!(!run_matches(
            "cohortextractor:latest  generate_cohort",
            &["cohortextractor"],
            &["generate_cohort"]
        ));
        assert!(!run_matches(
            "cohortextractor:latest generate_measures",
            &["cohortextractor"],
            &["generate_cohort"]
        ));
    }
}
