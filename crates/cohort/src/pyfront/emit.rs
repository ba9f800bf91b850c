//! Writing a parsed study definition as block-style YAML, for `cargo xtask translate`: short
//! collections stay on one line, strings are plain where the one YAML reader reads them back
//! as the same string, else double-quoted.

use yaml::{Node, Scalar, Value};

/// Collections longer than this (with their indentation and key) are written as blocks.
const WIDTH: usize = 96;

/// `root` (a mapping) as block-style YAML.
pub fn to_block_yaml(root: &Node) -> String {
    let mut out = String::new();
    match &root.value {
        Value::Map(entries) => entries_block(entries, 0, "", &mut out),
        _ => {
            out.push_str(&flow(root));
            out.push('\n');
        }
    }
    out
}

/// Writes `entries` at `indent`, under the top-level key `top` (`""` at the top level).
fn entries_block(entries: &[(Node, Node)], indent: usize, top: &str, out: &mut String) {
    for (k, v) in entries {
        let key = scalar(k, false);
        let top = if indent == 0 { key.as_str() } else { top };
        // Top-level sections, and each variable, are blocks, as people write them.
        let block = matches!(&v.value, Value::Map(e) if !e.is_empty())
            && (indent == 0 || (indent == 2 && top == "variables"));
        out.push_str(&" ".repeat(indent));
        out.push_str(&key);
        out.push(':');
        value_after(v, indent, indent + key.len() + 2, top, block, out);
    }
}

/// Writes `v` after `key:` (or `-`) at `indent`; `used` is the width already taken; `block`
/// forces a mapping onto lines of its own.
fn value_after(v: &Node, indent: usize, used: usize, top: &str, block: bool, out: &mut String) {
    if !block && inline(v, used) {
        out.push(' ');
        out.push_str(&flow(v));
        out.push('\n');
        return;
    }
    out.push('\n');
    match &v.value {
        Value::Map(entries) => entries_block(entries, indent + 2, top, out),
        Value::Seq(items) => {
            for item in items {
                let pad = " ".repeat(indent + 2);
                match &item.value {
                    Value::Map(entries) if !inline(item, indent + 4) => {
                        let mut block = String::new();
                        entries_block(entries, indent + 4, top, &mut block);
                        let rest = block
                            .strip_prefix(&" ".repeat(indent + 4))
                            .unwrap_or(&block);
                        out.push_str(&pad);
                        out.push_str("- ");
                        out.push_str(rest);
                    }
                    _ => {
                        out.push_str(&pad);
                        out.push('-');
                        value_after(item, indent + 2, indent + 4, top, false, out);
                    }
                }
            }
        }
        Value::Scalar(..) => unreachable_scalar(v, out),
    }
}

/// Scalars are always inline; this keeps `value_after` total without a panic.
fn unreachable_scalar(v: &Node, out: &mut String) {
    out.push_str(&flow(v));
    out.push('\n');
}

/// Whether `v` is written on one line: scalars, empty collections, and collections that fit
/// the width, hold no mapping of mappings and are not lists of mappings.
fn inline(v: &Node, used: usize) -> bool {
    match &v.value {
        Value::Scalar(..) => true,
        Value::Seq(items) if items.is_empty() => true,
        Value::Map(entries) if entries.is_empty() => true,
        // A list of mappings (`measures`) is a block, one item a line.
        Value::Seq(items) if items.iter().any(|i| matches!(i.value, Value::Map(_))) => false,
        _ => depth(v) <= 2 && used + flow(v).len() <= WIDTH,
    }
}

/// How deeply mappings nest in `v` (a scalar is 0, a mapping of scalars 1).
fn depth(v: &Node) -> usize {
    match &v.value {
        Value::Scalar(..) => 0,
        Value::Seq(items) => items.iter().map(depth).max().unwrap_or(0),
        Value::Map(entries) => 1 + entries.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
    }
}

fn flow(v: &Node) -> String {
    match &v.value {
        Value::Scalar(..) => scalar(v, true),
        Value::Seq(items) => {
            let parts: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(k, true), flow(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A scalar's text: plain scalars as they were (numbers, booleans, null, the plain `DEFAULT`);
/// strings plain when they read back as the same string in every place, else quoted.
fn scalar(v: &Node, in_flow: bool) -> String {
    let Value::Scalar(text, _) = &v.value else {
        return flow(v);
    };
    if !v.quoted {
        return text.clone();
    }
    if plain_reads_back(text, in_flow) {
        text.clone()
    } else {
        quote(text)
    }
}

fn plain_reads_back(text: &str, in_flow: bool) -> bool {
    if text.is_empty() || text == "DEFAULT" || text.contains(['\n', '\r', '\t']) {
        return false;
    }
    let same = |doc: String, key: bool| {
        let (root, d) = yaml::parse(&doc);
        let Some(root) = root.filter(|_| d.is_empty()) else {
            return false;
        };
        let node = match (&root.value, key) {
            (Value::Map(e), true) if e.len() == 1 => &e[0].0,
            (Value::Map(e), false) if e.len() == 1 => match &e[0].1.value {
                Value::Seq(items) if items.len() == 1 => &items[0],
                _ => &e[0].1,
            },
            _ => return false,
        };
        matches!(&node.value, Value::Scalar(t, Scalar::Str) if t == text) && !node.quoted
    };
    let block = same(format!("k: {text}\n"), false) && same(format!("{text}: v\n"), true);
    block
        && (!in_flow
            || same(format!("k: [{text}]\n"), false) && same(format!("{{{text}: v}}\n"), true))
}

/// A double-quoted YAML scalar.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether two trees mean the same to the study language: the same values and types, and the
/// same quoting of `DEFAULT` (only a plain one is a category mapping's default).
pub(crate) fn same_tree(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(ta, sa), Value::Scalar(tb, sb)) => {
            ta == tb && sa == sb && (ta != "DEFAULT" || a.quoted == b.quoted)
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_tree(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same_tree(ka, kb) && same_tree(va, vb))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let (root, d) = yaml::parse(text);
        assert!(d.is_empty(), "{d:?}");
        let root = root.unwrap();
        let out = to_block_yaml(&root);
        let (back, d) = yaml::parse(&out);
        assert!(d.is_empty(), "{out}\n{d:?}");
        assert!(same_tree(&back.unwrap(), &root), "{out}");
        out
    }

    #[test]
    fn strings_are_plain_only_when_they_read_back() {
        let out = round_trip(
            r##"{"a": "index_date", "b": "2019-01-01", "c": "yes", "d": "1", "e": "", "f": "x: y", "g": "DEFAULT", "h": DEFAULT, "i": "a, b", "j": "# no", "k": "null", "l": 0.5, "m": "line\nbreak", "n": "\u0085"}"##,
        );
        assert!(out.contains("a: index_date\n"), "{out}");
        assert!(out.contains("b: 2019-01-01\n"), "{out}");
        assert!(out.contains("d: \"1\"\n"), "{out}");
        assert!(out.contains("e: \"\"\n"), "{out}");
        assert!(out.contains("g: \"DEFAULT\"\n"), "{out}");
        assert!(out.contains("h: DEFAULT\n"), "{out}");
        assert!(out.contains("k: \"null\"\n"), "{out}");
        assert!(out.contains("m: \"line\\nbreak\"\n"), "{out}");
    }

    #[test]
    fn nesting_and_lists_become_blocks() {
        let out = round_trip(
            r#"{"variables": {"age": {"age_as_of": "index_date", "return_expectations": {"int": {"distribution": "population_ages"}}}}, "measures": [{"id": "m", "numerator": "x", "denominator": "population", "group_by": ["a", "b"]}], "empty": {}, "list": []}"#,
        );
        assert!(
            out.starts_with("variables:\n  age:\n    age_as_of: index_date\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "measures:\n  - {id: m, numerator: x, denominator: population, group_by: [a, b]}\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("empty: {}\n") && out.contains("list: []\n"),
            "{out}"
        );
    }

    #[test]
    fn different_trees_differ() {
        let a = yaml::parse("{x: DEFAULT}").0.unwrap();
        let b = yaml::parse("{x: \"DEFAULT\"}").0.unwrap();
        let c = yaml::parse("{x: 1}").0.unwrap();
        let d = yaml::parse("{x: \"1\"}").0.unwrap();
        assert!(!same_tree(&a, &b));
        assert!(!same_tree(&c, &d));
        assert!(same_tree(&a, &a));
    }
}
