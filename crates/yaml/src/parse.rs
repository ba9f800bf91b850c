//! Building the tree from `yaml-rust2`'s event parser, and resolving plain scalars.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::{Diagnostic, Pos};
use crate::node::{Node, Scalar, Value};

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
    for (prefix, radix) in [("0x", 16), ("0o", 8)] {
        if let Some(digits) = text.strip_prefix(prefix) {
            if !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)) {
                return match i64::from_str_radix(digits, radix) {
                    Ok(i) => Scalar::Int(i),
                    Err(_) => Scalar::Float(
                        u128::from_str_radix(digits, radix).map_or(f64::INFINITY, |u| u as f64),
                    ),
                };
            }
        }
    }
    let bytes = text.as_bytes();
    let body = bytes
        .strip_prefix(b"-")
        .or(bytes.strip_prefix(b"+"))
        .unwrap_or(bytes);
    if !body.is_empty() && body.iter().all(u8::is_ascii_digit) {
        // Beyond i64: still a number, as Python's int would be.
        return match text.parse::<i64>() {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(text.parse().unwrap_or(f64::NAN)),
        };
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
    let digits = |from: usize| {
        b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_digits = digits(0);
    let mut i = int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digits(i);
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
        let exp = digits(i);
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Parses `text` as one YAML document.
///
/// Returns the root node (`None` for an empty or comment-only document, or when the text is
/// not YAML) and every problem found, in document order. A syntax error stops the parser (it
/// is reported with its position, or, when a tab indents a line at or before it, as that
/// tab); duplicate keys (the first value is kept), non-scalar keys (the entry is dropped) and
/// a second document (ignored) do not.
pub fn parse(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(err) = parser.load(&mut builder, true) {
        let pos = marker_pos(err.marker());
        let mut diags = builder.diags;
        // A tab indenting a line up to the one after the error (yaml-rust2 puts a tab that
        // ends a plain scalar at the scalar's start) is the likely cause: say so.
        let tabs: Vec<Diagnostic> = tab_indentation(text)
            .into_iter()
            .filter(|d| d.pos.line <= pos.line + 1)
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
    if let Some(pos) = builder.second_document {
        builder.diags.push(Diagnostic::error(
            pos,
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

/// What makes two keys the same key: their resolved value (`1` and `0x1` are one key, `1`
/// and `'1'` are two).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
}

fn key_id(text: &str, scalar: &Scalar) -> KeyId {
    match scalar {
        Scalar::Null => KeyId::Null,
        Scalar::Bool(b) => KeyId::Bool(*b),
        Scalar::Int(i) => KeyId::Int(*i),
        Scalar::Float(f) => KeyId::Float(f.to_bits()),
        Scalar::Str => KeyId::Str(text.to_string()),
    }
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
        seen: HashMap<KeyId, Pos>,
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
                    if let Value::Scalar(text, scalar) = &node.value {
                        let id = key_id(text, scalar);
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
                    } else {
                        self.diags.push(Diagnostic::error(
                            node.pos,
                            format!("mapping keys must be scalars, found {}", node.kind_name()),
                        ));
                        *skip_value = true;
                    }
                    *key = Some(node);
                }
            },
        }
    }
}

/// Whether a tag asks for a string (`!!str`).
fn is_str_tag(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| t.suffix == "str")
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
                let quoted = style != TScalarStyle::Plain;
                let scalar = if quoted || is_str_tag(tag.as_ref()) {
                    Scalar::Str
                } else {
                    resolve_plain(&text)
                };
                self.finish(
                    Node {
                        value: Value::Scalar(text, scalar),
                        pos,
                        quoted,
                    },
                    anchor,
                );
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(node) => Node {
                        pos,
                        ..node.clone()
                    },
                    None => Node {
                        value: Value::Scalar(String::new(), Scalar::Null),
                        pos,
                        quoted: false,
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
                let (value, pos, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => (Value::Seq(items), pos, anchor),
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        ..
                    }) => (Value::Map(entries), pos, anchor),
                    None => return,
                };
                self.finish(
                    Node {
                        value,
                        pos,
                        quoted: false,
                    },
                    anchor,
                );
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

    fn messages(text: &str) -> Vec<String> {
        parse(text).1.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn positions_are_one_based() {
        let node = root("a:\n  b: 1\n  c: [x, 'y']\n");
        let (k, v) = node.entry("a").unwrap();
        assert_eq!(k.pos, Pos::new(1, 1));
        let (kb, vb) = v.entry("b").unwrap();
        assert_eq!(kb.pos, Pos::new(2, 3));
        assert_eq!(vb.value, Value::Scalar("1".into(), Scalar::Int(1)));
        let items = v.get("c").unwrap().as_seq().unwrap();
        assert_eq!(items[1].pos, Pos::new(3, 10));
        assert_eq!(items[1].as_str(), Some("y"));
        assert!(items[1].quoted && !items[0].quoted);
    }

    #[test]
    fn duplicate_keys_at_any_depth_are_reported_and_first_kept() {
        let (node, diags) = parse("a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n");
        assert_eq!(diags.len(), 2);
        assert_eq!(
            diags[0].to_string(),
            "3:3: found duplicate key \"b\" (first defined at line 2, column 3)"
        );
        assert_eq!(diags[1].pos, Pos::new(5, 1));
        let a = node.unwrap().get("a").unwrap().clone();
        assert_eq!(a.get("b").unwrap().scalar_text(), Some("1"));
        // Keys are compared as resolved: `1` and `0x1` are one key, `1` and '1' two.
        assert_eq!(messages("1: a\n'1': b\n"), Vec::<String>::new());
        assert_eq!(
            messages("1: a\n0x1: b\n"),
            ["2:1: found duplicate key \"0x1\" (first defined at line 1, column 1)"]
        );
    }

    #[test]
    fn non_scalar_keys_and_second_documents_are_reported_and_parsing_goes_on() {
        let (node, diags) = parse("? [a]\n: 1\nb: 2\nb: 3\n---\nc: 4\n");
        let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "1:3: mapping keys must be scalars, found a list",
                "4:1: found duplicate key \"b\" (first defined at line 3, column 1)",
                "5:1: expected a single document in the stream, but found another document",
            ]
        );
        let node = node.unwrap();
        assert_eq!(node.as_map().unwrap().len(), 1);
        assert_eq!(node.get("b").unwrap().as_int(), Some(2));
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
        assert_eq!(
            diags.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["2:1: tab character used for indentation (YAML indentation must use spaces)"]
        );
        for (text, tab) in [
            ("a: 1\n\tb: 2\n", "2:1:"),
            ("a:\n  b: 1\n  \tc: 2\n", "3:3:"),
            ("a:\n  - 1\n\t- 2\n", "3:1:"),
        ] {
            let (node, diags) = parse(text);
            assert!(node.is_none(), "{text:?}");
            let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
            assert_eq!(shown.len(), 1, "{text:?}: {shown:?}");
            assert!(
                shown[0].starts_with(tab) && shown[0].contains("tab character"),
                "{text:?}: {shown:?}"
            );
        }
        // A tab inside a flow collection is white space, not indentation.
        assert!(parse("a: [1,\n\t2]\n").1.is_empty());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let (node, diags) = parse("a: [b,\n");
        assert!(node.is_none());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.starts_with("YAML syntax error"));
        assert_eq!(parse("# only a comment\n"), (None, Vec::new()));
    }

    #[test]
    fn crlf_folded_and_comments_in_plain_scalars() {
        let node = root("a: >\r\n  x\r\n  #y\r\nb: one\r\n  two\r\n  # --three\r\nc: 1\r\n");
        // In a folded scalar a `#` line is content; in a plain one it is a comment.
        assert_eq!(node.get("a").unwrap().as_str(), Some("x #y\n"));
        let (kb, vb) = node.entry("b").unwrap();
        assert_eq!(kb.pos, Pos::new(4, 1));
        assert_eq!(vb.as_str(), Some("one two"));
        assert_eq!(node.entry("c").unwrap().0.pos, Pos::new(7, 1));
    }

    #[test]
    fn core_schema() {
        for (text, want) in [
            ("3.0", Scalar::Float(3.0)),
            ("4", Scalar::Int(4)),
            ("-4", Scalar::Int(-4)),
            ("+4", Scalar::Int(4)),
            ("0x1F", Scalar::Int(31)),
            ("0o17", Scalar::Int(15)),
            ("017", Scalar::Int(17)),
            ("1e3", Scalar::Float(1000.0)),
            (".5", Scalar::Float(0.5)),
            ("-.inf", Scalar::Float(f64::NEG_INFINITY)),
            ("true", Scalar::Bool(true)),
            ("False", Scalar::Bool(false)),
            ("~", Scalar::Null),
            ("null", Scalar::Null),
            ("", Scalar::Null),
            ("yes", Scalar::Str),
            ("no", Scalar::Str),
            ("on", Scalar::Str),
            ("0x", Scalar::Str),
            ("0x-1", Scalar::Str),
            ("0o8", Scalar::Str),
            ("0b101", Scalar::Str),
            ("1_000", Scalar::Str),
            ("v2", Scalar::Str),
            ("1.2.3", Scalar::Str),
            (".", Scalar::Str),
            ("2019-01-01", Scalar::Str),
        ] {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
        assert!(matches!(resolve_plain(".nan"), Scalar::Float(f) if f.is_nan()));
        let node = root("a: '0x1F'\nb: !!str 12\nc: |\n  7\n");
        assert_eq!(node.get("a").unwrap().as_str(), Some("0x1F"));
        assert_eq!(node.get("b").unwrap().as_str(), Some("12"));
        assert_eq!(node.get("c").unwrap().as_str(), Some("7\n"));
    }

    #[test]
    fn plain_values_and_python_json() {
        let node = root(
            "a: \"it's\"\nn: 0x1F\nf: 1e-5\ng: 1e16\nl: [true, ~, yes]\nu: é\ni: .inf\n3: x\n",
        );
        assert_eq!(
            node.to_python_json(),
            r#"{"a": "it's", "n": 31, "f": 1e-05, "g": 1e+16, "l": [true, null, "yes"], "u": "\u00e9", "i": Infinity, "3": "x"}"#
        );
        let plain = node.to_value();
        assert_eq!(plain["n"], serde_yaml::Value::Number(31.into()));
        assert_eq!(plain["l"][2], serde_yaml::Value::String("yes".into()));
        assert_eq!(plain["l"][1], serde_yaml::Value::Null);
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let node = root("a: &x [1, 2]\nb: *x\n");
        let (_, b) = node.entry("b").unwrap();
        assert_eq!(b.as_seq().unwrap().len(), 2);
        assert_eq!(b.pos, Pos::new(2, 4));
    }
}
