//! The validated model of a `project.yaml`.

use std::fmt;

use yaml::Pos;

/// The newest `project.yaml` format version.
pub const LATEST_VERSION: u32 = 5;

/// A privacy level of an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Patient-level data; never leaves the secure environment.
    HighlySensitive,
    /// Aggregate data that may be released after checks.
    ModeratelySensitive,
    /// Non-disclosive data.
    MinimallySensitive,
}

impl Level {
    /// All levels, in OpenSAFELY's order.
    pub const ALL: [Level; 3] = [
        Level::HighlySensitive,
        Level::ModeratelySensitive,
        Level::MinimallySensitive,
    ];

    /// The key used in `project.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::HighlySensitive => "highly_sensitive",
            Level::ModeratelySensitive => "moderately_sensitive",
            Level::MinimallySensitive => "minimally_sensitive",
        }
    }

    /// The level named `s`.
    pub fn from_key(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Behaviour switched on by the format version (OpenSAFELY's feature flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// The same output pattern may not appear twice (v2+).
    pub unique_output_path: bool,
    /// `expectations.population_size` is required (v3 only).
    pub expectations_population: bool,
    /// No cohortextractor actions, no `expectations` (v4+).
    pub remove_cohortextractor: bool,
    /// An action named `run_all` is an error (v5+).
    pub remove_run_all_action: bool,
    /// `IMAGE:latest` is an error (v5+).
    pub remove_latest_tag: bool,
}

impl Features {
    /// The flags for `version` (compared as a float, as OpenSAFELY does).
    pub fn for_version(version: f64) -> Features {
        Features {
            unique_output_path: version >= 2.0,
            expectations_population: version == 3.0,
            remove_cohortextractor: version >= 4.0,
            remove_run_all_action: version >= 5.0,
            remove_latest_tag: version >= 5.0,
        }
    }
}

/// An action's `run` line, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The line as written (folded to one line by YAML).
    pub raw: String,
    /// Image name, e.g. `python`.
    pub image: String,
    /// Image tag, e.g. `v2`.
    pub tag: String,
    /// The words after `IMAGE:TAG`.
    pub args: Vec<String>,
}

impl Command {
    /// Whether this is `cohortextractor:<tag> generate_cohort`.
    pub fn is_generate_cohort(&self) -> bool {
        self.image == "cohortextractor"
            && self.args.first().map(String::as_str) == Some("generate_cohort")
    }

    /// The value of `--NAME VALUE` or `--NAME=VALUE` (the last one wins, as argparse).
    pub fn option(&self, name: &str) -> Option<&str> {
        option_value(&self.args, name)
    }
}

/// The value of `--NAME VALUE` or `--NAME=VALUE` in `args` (the last one wins).
pub fn option_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let mut found = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == name {
            found = iter.next().map(String::as_str);
        } else if let Some(v) = arg.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            found = Some(v);
        }
    }
    found
}

/// One declared output pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Privacy level.
    pub level: Level,
    /// The label (free text).
    pub label: String,
    /// The pattern; `*` matches within one path component.
    pub pattern: String,
}

/// One action.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// Its name (the key under `actions`).
    pub name: String,
    /// Where the name is.
    pub pos: Pos,
    /// The `run` line.
    pub run: Command,
    /// Names of the actions it needs, as written.
    pub needs: Vec<String>,
    /// Declared outputs, in file order.
    pub outputs: Vec<Output>,
    /// `config`, as JSON text in Python's `json.dumps` form.
    pub config: Option<String>,
    /// `dummy_data_file`.
    pub dummy_data_file: Option<String>,
}

impl Action {
    /// The arguments the action runs with: the `run` words after the image, plus
    /// `--config '<json>'` when the action has a `config` (as OpenSAFELY appends it).
    pub fn effective_args(&self) -> Vec<String> {
        let mut args = self.run.args.clone();
        if let Some(config) = &self.config {
            args.push("--config".into());
            args.push(config.replace('\'', "\\u0027"));
        }
        args
    }
}

/// A valid project.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// The format version as a number.
    pub version: f64,
    /// What the version switches on.
    pub features: Features,
    /// `expectations.population_size` (forced to 1000 for versions below 3, as OpenSAFELY).
    pub population_size: Option<u64>,
    /// Actions in file order (a user-defined `run_all` is left out).
    pub actions: Vec<Action>,
}

impl Project {
    /// The action called `name`.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// Action names in file order.
    pub fn action_names(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.name.as_str())
    }
}
