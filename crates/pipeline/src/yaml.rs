//! A YAML document as a tree of nodes that remember where they start.
//!
//! Built from `yaml-rust2`'s event parser so that every node keeps its line and column,
//! duplicate mapping keys are reported at any depth (the first value is kept), and tabs used
//! for indentation are clean errors. Plain scalars are resolved with the YAML 1.2 core schema,
//! as `ruamel.yaml` (OpenSAFELY's loader) does.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::{Diagnostic, Pos};

/// A scalar's type after resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `~`, `null`, or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (any quoted scalar, or a plain one that is nothing else).
    Str,
}

/// The value of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar: its text and its resolved type.
    Scalar(String, Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, without duplicate keys.
    Map(Vec<(Node, Node)>),
}

/// A node and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the node starts.
    pub pos: Pos,
}

impl Node {
    /// The string, if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text, Scalar::Str) => Some(text),
            _ => None,
        }
    }

    /// The scalar's text, whatever its type.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this is a null scalar.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Scalar(_, Scalar::Null))
    }

    /// The value of `key` in a mapping, with the key node.
    pub fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// A short name for the kind of node, for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(_, Scalar::Null) => "null",
            Value::Scalar(_, Scalar::Bool(_)) => "a boolean",
            Value::Scalar(_, Scalar::Int(_)) => "an integer",
            Value::Scalar(_, Scalar::Float(_)) => "a number",
            Value::Scalar(_, Scalar::Str) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON text, serialised as Python's `json.dumps` does (`", "` and `": "`
    /// separators, non-ASCII escaped).
    pub fn to_python_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }
}

fn write_json(node: &Node, out: &mut String) {
    match &node.value {
        Value::Scalar(_, Scalar::Null) => out.push_str("null"),
        Value::Scalar(_, Scalar::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Value::Scalar(_, Scalar::Int(i)) => out.push_str(&i.to_string()),
        Value::Scalar(_, Scalar::Float(f)) => out.push_str(&python_float_repr(*f)),
        Value::Scalar(text, Scalar::Str) => write_json_str(text, out),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_str(k.scalar_text().unwrap_or(""), out);
                out.push_str(": ");
                write_json(v, out);
            }
            out.push('}');
        }
    }
}

fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `repr(float)` for the values YAML produces (`3.0`, `0.5`, `1e+20`, `inf`).
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        let s = format!("{f:?}");
        // Rust prints `1e20`; Python prints `1e+20`.
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Scalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Scalar::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Scalar::Int(i);
        }
    }
    let bytes = text.as_bytes();
    let digits = bytes.strip_prefix(b"-").or(bytes.strip_prefix(b"+"));
    let body = digits.unwrap_or(bytes);
    if !body.is_empty() && body.iter().all(u8::is_ascii_digit) {
        if let Ok(i) = text.parse::<i64>() {
            return Scalar::Int(i);
        }
        return Scalar::Float(text.parse().unwrap_or(f64::NAN));
    }
    if is_core_float(body) {
        if let Ok(f) = text.parse::<f64>() {
            return Scalar::Float(f);
        }
    }
    Scalar::Str
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (sign already stripped).
fn is_core_float(b: &[u8]) -> bool {
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Parses `text` as one YAML document.
///
/// Returns the root node (`None` for an empty or comment-only document) and the problems
/// found. Syntax errors and tab indentation stop parsing; duplicate keys and non-scalar keys do
/// not (the first value of a duplicate key is kept).
pub fn parse(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(err) = parser.load(&mut builder, true) {
        let pos = marker_pos(err.marker());
        let mut diags = builder.diags;
        // A tab in the indentation at or before the error is the likely cause: say so.
        let tabs: Vec<Diagnostic> = tab_indentation(text)
            .into_iter()
            .filter(|d| d.pos.line <= pos.line)
            .collect();
        if tabs.is_empty() {
            diags.push(Diagnostic::error(
                pos,
                format!("YAML syntax error: {}", err.info()),
            ));
        } else {
            diags.extend(tabs);
        }
        return (None, diags);
    }
    if builder.documents > 1 {
        builder.diags.push(Diagnostic::error(
            builder.second_document.unwrap_or(Pos::START),
            "expected a single document in the stream, but found another document",
        ));
    }
    (builder.root, builder.diags)
}

/// Lines whose indentation contains a tab before some content (YAML forbids tabs in
/// indentation; blank and comment lines do not count).
fn tab_indentation(text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let rest = line.trim_start_matches([' ', '\t']);
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let indent = &line[..line.len() - rest.len()];
        if let Some(col) = indent.find('\t') {
            out.push(
                Diagnostic::error(
                    Pos::new(i + 1, col + 1),
                    "tab character used for indentation",
                )
                .with_hint("YAML indentation must use spaces"),
            );
        }
    }
    out
}

fn marker_pos(m: &Marker) -> Pos {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Pos::new(m.line().max(1), m.col() + 1)
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        skip_value: bool,
        seen: HashMap<(String, bool), Pos>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    second_document: Option<Pos>,
    diags: Vec<Diagnostic>,
}

impl Builder {
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.documents == 1 {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                skip_value,
                seen,
                ..
            }) => match key.take() {
                Some(k) => {
                    if !std::mem::take(skip_value) {
                        entries.push((k, node));
                    }
                }
                None => {
                    match &node.value {
                        Value::Scalar(text, kind) => {
                            let id = (text.clone(), *kind == Scalar::Str);
                            if let Some(first) = seen.get(&id) {
                                self.diags.push(Diagnostic::error(
                                    node.pos,
                                    format!(
                                        "found duplicate key \"{text}\" (first defined at line {}, column {})",
                                        first.line, first.col
                                    ),
                                ));
                                *skip_value = true;
                            } else {
                                seen.insert(id, node.pos);
                            }
                        }
                        _ => {
                            self.diags.push(Diagnostic::error(
                                node.pos,
                                format!("mapping keys must be scalars, found {}", node.kind_name()),
                            ));
                            *skip_value = true;
                        }
                    }
                    *key = Some(node);
                }
            },
        }
    }
}

fn tag_kind(tag: &Option<Tag>) -> Option<&str> {
    let tag = tag.as_ref()?;
    Some(tag.suffix.as_str())
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = marker_pos(&mark);
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.second_document = Some(pos);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let kind = match tag_kind(&tag) {
                    Some("str") => Scalar::Str,
                    Some(_) if style == TScalarStyle::Plain => resolve_plain(&text),
                    _ if style == TScalarStyle::Plain => resolve_plain(&text),
                    _ => Scalar::Str,
                };
                self.finish(
                    Node {
                        value: Value::Scalar(text, kind),
                        pos,
                    },
                    anchor,
                );
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(node) => Node {
                        value: node.value.clone(),
                        pos,
                    },
                    None => Node {
                        value: Value::Scalar(String::new(), Scalar::Null),
                        pos,
                    },
                };
                self.finish(node, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                pos,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                pos,
                anchor,
                entries: Vec::new(),
                key: None,
                skip_value: false,
                seen: HashMap::new(),
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => (
                        Node {
                            value: Value::Seq(items),
                            pos,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.finish(node, anchor);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let (node, diags) = parse(text);
        assert!(diags.is_empty(), "{diags:?}");
        node.expect("a document")
    }

    #[test]
    fn positions_are_one_based() {
        let node = root("a:\n  b: 1\n  c: [x, 'y']\n");
        let (k, v) = node.get("a").unwrap();
        assert_eq!(k.pos, Pos::new(1, 1));
        let (kb, vb) = v.get("b").unwrap();
        assert_eq!(kb.pos, Pos::new(2, 3));
        assert_eq!(vb.value, Value::Scalar("1".into(), Scalar::Int(1)));
        let (_, vc) = v.get("c").unwrap();
        let items = vc.as_seq().unwrap();
        assert_eq!(items[1].pos, Pos::new(3, 10));
        assert_eq!(items[1].as_str(), Some("y"));
    }

    #[test]
    fn duplicate_keys_at_any_depth_are_reported_and_first_kept() {
        let (node, diags) = parse("a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n");
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].pos, Pos::new(3, 3));
        assert_eq!(
            diags[0].message,
            "found duplicate key \"b\" (first defined at line 2, column 3)"
        );
        assert_eq!(diags[1].pos, Pos::new(5, 1));
        let node = node.unwrap();
        let (_, a) = node.get("a").unwrap();
        assert_eq!(a.get("b").unwrap().1.scalar_text(), Some("1"));
    }

    #[test]
    fn quoted_and_plain_keys_differ() {
        let (_, diags) = parse("1: a\n'1': b\n");
        assert!(diags.is_empty());
    }

    #[test]
    fn tabs_in_blank_or_comment_lines_are_fine() {
        let (node, diags) = parse("a:\n  b: 1\n\t\n\t# c\n  c: 2\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert!(node.is_some());
    }

    #[test]
    fn tabs_in_indentation_are_errors() {
        let (node, diags) = parse("a:\n\tb: 1\n");
        assert!(node.is_none());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].pos, Pos::new(2, 1));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let (node, diags) = parse("a: [b,\n");
        assert!(node.is_none());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.starts_with("YAML syntax error"));
    }

    #[test]
    fn crlf_folded_and_comments_in_plain_scalars() {
        let node = root("a: >\r\n  x\r\n  #y\r\nb: one\r\n  two\r\n  # --three\r\nc: 1\r\n");
        // In a folded scalar a `#` line is content; in a plain one it is a comment.
        assert_eq!(node.get("a").unwrap().1.as_str(), Some("x #y\n"));
        let (kb, vb) = node.get("b").unwrap();
        assert_eq!(kb.pos, Pos::new(4, 1));
        assert_eq!(vb.as_str(), Some("one two"));
        assert_eq!(node.get("c").unwrap().0.pos, Pos::new(7, 1));
    }

    #[test]
    fn core_schema() {
        assert_eq!(resolve_plain("3.0"), Scalar::Float(3.0));
        assert_eq!(resolve_plain("4"), Scalar::Int(4));
        assert_eq!(resolve_plain("-4"), Scalar::Int(-4));
        assert_eq!(resolve_plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(resolve_plain("true"), Scalar::Bool(true));
        assert_eq!(resolve_plain("yes"), Scalar::Str);
        assert_eq!(resolve_plain("~"), Scalar::Null);
        assert_eq!(resolve_plain("v2"), Scalar::Str);
        assert_eq!(resolve_plain("1.2.3"), Scalar::Str);
        assert_eq!(resolve_plain("."), Scalar::Str);
    }

    #[test]
    fn python_json() {
        let node = root("a: \"it's\"\nn: 3\nf: 0.5\nl: [true, ~]\nu: é\n");
        assert_eq!(
            node.to_python_json(),
            r#"{"a": "it's", "n": 3, "f": 0.5, "l": [true, null], "u": "\u00e9"}"#
        );
        assert_eq!(python_float_repr(3.0), "3.0");
        assert_eq!(python_float_repr(6.0), "6.0");
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let node = root("a: &x [1, 2]\nb: *x\n");
        assert_eq!(node.get("b").unwrap().1.as_seq().unwrap().len(), 2);
    }
}
