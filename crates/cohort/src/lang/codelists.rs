//! The `codelists:` section: codelists from CSV files or inline codes, unions
//! (`combine_codelists`) and category filters (`filter_codes_by_category`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml::{Node, Pos, Value};

use super::diag::{did_you_mean, known_list, Diags};

/// The coding system of a codelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSystem {
    /// CTV3 (Read v3)
    Ctv3,
    /// SNOMED CT (`snomedct`, alias `snomed`)
    Snomedct,
    /// dm+d
    Dmd,
    /// ICD-10
    Icd10,
    /// OPCS-4
    Opcs4,
}

impl CodeSystem {
    /// The systems and their spellings.
    pub const ALL: [(&'static str, CodeSystem); 6] = [
        ("ctv3", CodeSystem::Ctv3),
        ("snomedct", CodeSystem::Snomedct),
        ("snomed", CodeSystem::Snomedct),
        ("dmd", CodeSystem::Dmd),
        ("icd10", CodeSystem::Icd10),
        ("opcs4", CodeSystem::Opcs4),
    ];

    /// Parses a system name.
    pub fn parse(s: &str) -> Option<CodeSystem> {
        CodeSystem::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, c)| *c)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            CodeSystem::Ctv3 => "ctv3",
            CodeSystem::Snomedct => "snomedct",
            CodeSystem::Dmd => "dmd",
            CodeSystem::Icd10 => "icd10",
            CodeSystem::Opcs4 => "opcs4",
        }
    }

    /// The `clinical_events` column holding codes of this system (CTV3 and SNOMED CT only).
    pub fn events_column(self) -> Option<&'static str> {
        match self {
            CodeSystem::Ctv3 => Some("ctv3_code"),
            CodeSystem::Snomedct => Some("snomedct_code"),
            _ => None,
        }
    }
}

/// A resolved codelist.
#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    /// Its name in the study definition.
    pub name: String,
    /// Its coding system.
    pub system: CodeSystem,
    /// Code -> category (`None` for codelists without categories).
    pub codes: BTreeMap<String, Option<String>>,
    /// Whether the codes have categories.
    pub has_categories: bool,
    /// The CSV file it was read from, if any.
    pub csv: Option<PathBuf>,
    /// The CSV's code column, if read from a file.
    pub column: Option<String>,
}

impl Codelist {
    /// True if `code` is in the codelist (exact, case-sensitive).
    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains_key(code)
    }

    /// The codes as a query-model codelist.
    pub fn query(&self) -> Arc<query::Codelist> {
        Arc::new(query::Codelist {
            name: self.name.clone(),
            codes: self.codes.clone(),
        })
    }
}

enum Def<'a> {
    Csv {
        csv: &'a Node,
        system: CodeSystem,
        column: String,
        category: Option<String>,
    },
    Codes {
        codes: Vec<(String, Option<String>, Pos)>,
        has_categories: bool,
        system: CodeSystem,
    },
    Combine(Vec<(&'a str, Pos)>),
    Filter {
        source: (&'a str, Pos),
        include: Vec<String>,
    },
}

/// Loads the `codelists:` section. Codelists that fail are left out (their problems are
/// reported here; what refers to them is not reported again).
pub(crate) fn load(
    d: &mut Diags,
    node: Option<&Node>,
    project_dir: &Path,
) -> (BTreeMap<String, Codelist>, Vec<String>) {
    let mut defs: Vec<(String, Pos, Def)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return (BTreeMap::new(), failed);
    };
    let Some(entries) = node.as_map() else {
        d.err(
            node.pos,
            "key `codelists`: expected a mapping of name -> codelist",
        );
        return (BTreeMap::new(), failed);
    };
    for (k, v) in entries {
        let name = k.scalar_text().unwrap_or("").to_string();
        match parse_def(d, &name, v) {
            Some(def) => defs.push((name, k.pos, def)),
            None => failed.push(name),
        }
    }
    // Resolve in dependency order (a reference may come before its target).
    let names: Vec<String> = defs
        .iter()
        .map(|(n, _, _)| n.clone())
        .chain(failed.iter().cloned())
        .collect();
    let mut done: BTreeMap<String, Codelist> = BTreeMap::new();
    let by_name: HashMap<&str, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, (n, _, _))| (n.as_str(), i))
        .collect();
    let mut state = vec![0u8; defs.len()];
    for i in 0..defs.len() {
        resolve(
            d,
            i,
            &defs,
            &by_name,
            &names,
            &mut state,
            &mut done,
            &mut failed,
            project_dir,
        );
    }
    (done, failed)
}

#[allow(clippy::too_many_arguments)]
fn resolve(
    d: &mut Diags,
    i: usize,
    defs: &[(String, Pos, Def)],
    by_name: &HashMap<&str, usize>,
    names: &[String],
    state: &mut [u8],
    done: &mut BTreeMap<String, Codelist>,
    failed: &mut Vec<String>,
    project_dir: &Path,
) {
    if state[i] == 2 {
        return;
    }
    let (name, pos, def) = &defs[i];
    let prefix = format!("codelist `{name}`");
    if state[i] == 1 {
        d.err(*pos, format!("{prefix}: refers to itself"));
        failed.push(name.clone());
        return;
    }
    state[i] = 1;
    // The codelists this one is built from, resolved first.
    let refs: Vec<(&str, Pos)> = match def {
        Def::Combine(r) => r.clone(),
        Def::Filter { source, .. } => vec![*source],
        _ => Vec::new(),
    };
    let mut ok = true;
    for (r, rpos) in &refs {
        match by_name.get(r) {
            Some(&j) => resolve(d, j, defs, by_name, names, state, done, failed, project_dir),
            None if failed.iter().any(|f| f == r) => {}
            None => d.err(
                *rpos,
                format!(
                    "{prefix}: unknown codelist `{r}` (known codelists: {}){}",
                    known_list(names.iter().map(String::as_str).filter(|n| n != name)),
                    did_you_mean(r, names.iter().map(String::as_str))
                ),
            ),
        }
        ok &= done.contains_key(*r);
    }
    state[i] = 2;
    if !ok {
        failed.push(name.clone());
        return;
    }
    let built = match def {
        Def::Csv {
            csv,
            system,
            column,
            category,
        } => {
            let path_text = csv.scalar_text().unwrap_or("");
            let file = project_dir.join(path_text);
            match files::CodelistCsv::read(&file, column, category.as_deref()) {
                Ok(read) => Some(Codelist {
                    name: name.clone(),
                    system: *system,
                    has_categories: category.is_some(),
                    codes: read
                        .rows
                        .into_iter()
                        .map(|r| (r.code, r.category))
                        .collect(),
                    csv: Some(PathBuf::from(path_text)),
                    column: Some(column.clone()),
                }),
                Err(e) => {
                    let shown = e
                        .to_string()
                        .replace(&format!("{}/", project_dir.display()), "");
                    d.err(csv.pos, format!("{prefix}: key `csv`: {shown}"));
                    None
                }
            }
        }
        Def::Codes {
            codes,
            has_categories,
            system,
        } => {
            let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
            let mut good = true;
            for (code, cat, cpos) in codes {
                if let Some(Some(first)) = out.get(code) {
                    if cat.as_ref() != Some(first) {
                        d.err(
                            *cpos,
                            format!(
                                "{prefix}: code `{code}` has two categories: `{first}` and `{}`",
                                cat.as_deref().unwrap_or("")
                            ),
                        );
                        good = false;
                    }
                    continue;
                }
                out.insert(code.clone(), cat.clone());
            }
            good.then(|| Codelist {
                name: name.clone(),
                system: *system,
                codes: out,
                has_categories: *has_categories,
                csv: None,
                column: None,
            })
        }
        Def::Combine(parts) => {
            let lists: Vec<&Codelist> = parts.iter().map(|(p, _)| &done[*p]).collect();
            let first = lists[0];
            let mut good = true;
            for (l, (_, ppos)) in lists.iter().zip(parts) {
                if l.system != first.system {
                    d.err(
                        *ppos,
                        format!(
                            "{prefix}: cannot combine codelists of different systems: `{}` is {} and `{}` is {}",
                            first.name,
                            first.system.name(),
                            l.name,
                            l.system.name()
                        ),
                    );
                    good = false;
                } else if l.has_categories != first.has_categories {
                    d.err(
                        *ppos,
                        format!(
                            "{prefix}: cannot combine codelists with and without categories (`{}` and `{}`)",
                            first.name, l.name
                        ),
                    );
                    good = false;
                }
            }
            let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
            if good {
                'lists: for l in &lists {
                    for (code, cat) in &l.codes {
                        if let Some(existing) = out.get(code) {
                            if existing != cat {
                                d.err(
                                    *pos,
                                    format!(
                                        "{prefix}: code `{code}` has two categories: `{}` and `{}`",
                                        existing.as_deref().unwrap_or(""),
                                        cat.as_deref().unwrap_or("")
                                    ),
                                );
                                good = false;
                                break 'lists;
                            }
                        }
                        out.insert(code.clone(), cat.clone());
                    }
                }
            }
            good.then(|| Codelist {
                name: name.clone(),
                system: first.system,
                codes: out,
                has_categories: first.has_categories,
                csv: None,
                column: None,
            })
        }
        Def::Filter { source, include } => {
            let src = &done[source.0];
            if src.has_categories {
                let codes: BTreeMap<String, Option<String>> = src
                    .codes
                    .iter()
                    .filter(|(_, c)| c.as_ref().is_some_and(|c| include.contains(c)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if codes.is_empty() {
                    d.err(
                        *pos,
                        format!(
                            "{prefix}: codelist has no codes matching categories {}",
                            include.join(", ")
                        ),
                    );
                    None
                } else {
                    Some(Codelist {
                        name: name.clone(),
                        system: src.system,
                        codes,
                        has_categories: true,
                        csv: None,
                        column: None,
                    })
                }
            } else {
                d.err(
                    source.1,
                    format!(
                        "{prefix}: codelist `{}` has no categories to filter by",
                        src.name
                    ),
                );
                None
            }
        }
    };
    match built {
        Some(cl) => {
            done.insert(name.clone(), cl);
        }
        None => failed.push(name.clone()),
    }
}

fn parse_def<'a>(d: &mut Diags, name: &str, node: &'a Node) -> Option<Def<'a>> {
    let prefix = format!("codelist `{name}`");
    let Some(entries) = node.as_map() else {
        d.err(
            node.pos,
            format!("{prefix}: expected a mapping (csv, codes, combine_codelists or filter_codes_by_category)"),
        );
        return None;
    };
    let keys: Vec<&str> = entries
        .iter()
        .filter_map(|(k, _)| k.scalar_text())
        .collect();
    let (form, allowed): (&str, &[&str]) = if keys.contains(&"combine_codelists") {
        ("combine_codelists", &["combine_codelists"])
    } else if keys.contains(&"filter_codes_by_category") {
        (
            "filter_codes_by_category",
            &["filter_codes_by_category", "include"],
        )
    } else if keys.contains(&"codes") {
        ("codes", &["codes", "system"])
    } else {
        ("csv", &["csv", "system", "column", "category_column"])
    };
    let n0 = d.count();
    for (k, _) in entries {
        let key = k.scalar_text().unwrap_or("");
        if !allowed.contains(&key) {
            d.err(
                k.pos,
                format!(
                    "{prefix}: unknown key `{key}` (expected one of: {}){}",
                    allowed.join(", "),
                    did_you_mean(key, allowed.iter().copied())
                ),
            );
        }
    }
    let text = |d: &mut Diags, key: &str, required: bool| -> Option<(&'a str, Pos)> {
        match node.get(key) {
            Some(v) if !v.is_null() => match &v.value {
                Value::Scalar(s, _) => Some((s.as_str(), v.pos)),
                _ => {
                    d.err(v.pos, format!("{prefix}: key `{key}`: expected a string"));
                    None
                }
            },
            _ => {
                if required {
                    d.err(node.pos, format!("{prefix}: missing required key `{key}`"));
                }
                None
            }
        }
    };
    let system = |d: &mut Diags| -> Option<CodeSystem> {
        let (s, pos) = text(d, "system", true)?;
        match CodeSystem::parse(s) {
            Some(sys) => Some(sys),
            None => {
                d.err(
                    pos,
                    format!(
                        "{prefix}: key `system`: unknown system `{s}` (expected one of: ctv3, snomedct, snomed, dmd, icd10, opcs4){}",
                        did_you_mean(s, CodeSystem::ALL.iter().map(|(n, _)| *n))
                    ),
                );
                None
            }
        }
    };
    let names_list = |d: &mut Diags, v: &'a Node, key: &str| -> Option<Vec<(&'a str, Pos)>> {
        let items: Vec<&'a Node> = match &v.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Scalar(..) => vec![v],
            Value::Map(_) => {
                d.err(
                    v.pos,
                    format!("{prefix}: key `{key}`: expected a list of codelist names"),
                );
                return None;
            }
        };
        Some(
            items
                .into_iter()
                .map(|n| (n.scalar_text().unwrap_or(""), n.pos))
                .collect(),
        )
    };
    let def = match form {
        "combine_codelists" => {
            let v = node.get("combine_codelists")?;
            let parts = names_list(d, v, "combine_codelists")?;
            if parts.is_empty() {
                d.err(
                    v.pos,
                    format!("{prefix}: key `combine_codelists`: expected at least one codelist"),
                );
                return None;
            }
            Some(Def::Combine(parts))
        }
        "filter_codes_by_category" => {
            let v = node.get("filter_codes_by_category")?;
            let source = (v.scalar_text().unwrap_or(""), v.pos);
            let include = match node.get("include") {
                None => {
                    d.err(
                        node.pos,
                        format!("{prefix}: missing required key `include`"),
                    );
                    return None;
                }
                Some(inc) => scalar_list(d, &prefix, "include", inc)?,
            };
            Some(Def::Filter { source, include })
        }
        "codes" => {
            let system = system(d);
            let v = node.get("codes")?;
            let Some(items) = v.as_seq() else {
                d.err(
                    v.pos,
                    format!(
                        "{prefix}: key `codes`: expected a list of codes or [code, category] pairs"
                    ),
                );
                return None;
            };
            let mut codes = Vec::new();
            let mut pairs = 0;
            for item in items {
                match &item.value {
                    Value::Seq(pair) if pair.len() == 2 => {
                        pairs += 1;
                        let code = code_text(d, &prefix, &pair[0])?;
                        let cat = code_text(d, &prefix, &pair[1])?;
                        codes.push((code, Some(cat), item.pos));
                    }
                    Value::Scalar(..) => {
                        let code = code_text(d, &prefix, item)?;
                        codes.push((code, None, item.pos));
                    }
                    _ => {
                        d.err(
                            item.pos,
                            format!(
                                "{prefix}: key `codes`: expected a code or a [code, category] pair"
                            ),
                        );
                        return None;
                    }
                }
            }
            if pairs != 0 && pairs != codes.len() {
                d.err(
                    v.pos,
                    format!(
                        "{prefix}: key `codes`: codes and [code, category] pairs cannot be mixed"
                    ),
                );
                return None;
            }
            Some(Def::Codes {
                has_categories: pairs > 0,
                codes,
                system: system?,
            })
        }
        _ => {
            let csv = node.get("csv");
            if csv.is_none() {
                d.err(node.pos, format!("{prefix}: missing required key `csv`"));
            }
            let system = system(d);
            let column = text(d, "column", false).map_or(
                files::codelist::DEFAULT_CODE_COLUMN.to_string(),
                |(c, _)| c.to_string(),
            );
            let category = text(d, "category_column", false).map(|(c, _)| c.to_string());
            Some(Def::Csv {
                csv: csv?,
                system: system?,
                column,
                category,
            })
        }
    };
    (d.count() == n0).then_some(def).flatten()
}

/// A code: a string, or an integer written in decimal.
fn code_text(d: &mut Diags, prefix: &str, n: &Node) -> Option<String> {
    match &n.value {
        Value::Scalar(s, yaml::Scalar::Str) => Some(s.trim().to_string()),
        Value::Scalar(_, yaml::Scalar::Int(i)) => Some(i.to_string()),
        _ => {
            d.err(
                n.pos,
                format!(
                    "{prefix}: key `codes`: a code must be a string (quote codes with leading zeros), found {}",
                    n.kind_name()
                ),
            );
            None
        }
    }
}

/// A string or a list of strings (integers written in decimal).
pub(crate) fn scalar_list(d: &mut Diags, prefix: &str, key: &str, n: &Node) -> Option<Vec<String>> {
    let items: Vec<&Node> = match &n.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Scalar(..) if !n.is_null() => vec![n],
        _ => {
            d.err(
                n.pos,
                format!("{prefix}: key `{key}`: expected a string or a list of strings"),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for item in items {
        match &item.value {
            Value::Scalar(s, yaml::Scalar::Str) => out.push(s.clone()),
            Value::Scalar(_, yaml::Scalar::Int(i)) => out.push(i.to_string()),
            _ => {
                d.err(
                    item.pos,
                    format!(
                        "{prefix}: key `{key}`: expected a string, found {}",
                        item.kind_name()
                    ),
                );
                return None;
            }
        }
    }
    Some(out)
}
