//! A YAML document tree that keeps the line and column of every node and rejects duplicate
//! mapping keys (serde_yaml keeps neither). Built on `yaml-rust2`'s event parser.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the source text (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: usize,
    pub col: usize,
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub mark: Mark,
    pub kind: NodeKind,
}

/// The shape of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar as written; `quoted` is true for single- or double-quoted and block scalars
    /// (which YAML never resolves to null, bool or number).
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order (keys are unique: duplicates are reported as errors).
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax problem or a duplicate key, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlProblem {
    pub mark: Mark,
    pub message: String,
}

impl Node {
    /// The text of a scalar node.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, quoted: false }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The entries of a mapping node.
    pub fn map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence node.
    pub fn seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value of key `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.map()?
            .iter()
            .find(|(k, _)| k.scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short description of the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The node as a plain `serde_yaml::Value` (YAML 1.2 core schema for plain scalars).
    pub fn to_value(&self) -> serde_yaml::Value {
        use serde_yaml::Value;
        match &self.kind {
            NodeKind::Scalar { text, quoted: true } => Value::String(text.clone()),
            NodeKind::Scalar {
                text,
                quoted: false,
            } => resolve_plain(text),
            NodeKind::Seq(items) => Value::Sequence(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => Value::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_value(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

fn resolve_plain(text: &str) -> serde_yaml::Value {
    use serde_yaml::Value;
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Number(f64::INFINITY.into())
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Number(f64::NEG_INFINITY.into()),
        ".nan" | ".NaN" | ".NAN" => return Value::Number(f64::NAN.into()),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    let looks_numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && text.chars().any(|c| c.is_ascii_digit());
    if looks_numeric {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Number(f.into());
        }
    }
    Value::String(text.to_string())
}

fn mark_of(m: Marker) -> Mark {
    Mark {
        line: m.line(),
        col: m.col() + 1,
    }
}

enum Frame {
    Seq(Mark, usize, Vec<Node>),
    Map(Mark, usize, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    problems: Vec<YamlProblem>,
}

impl Builder {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(text) = key.scalar() {
                        if let Some((first, _)) =
                            entries.iter().find(|(k, _)| k.scalar() == Some(text))
                        {
                            self.problems.push(YamlProblem {
                                mark: key.mark,
                                message: format!(
                                    "duplicate key `{text}` (first defined at line {})",
                                    first.mark.line
                                ),
                            });
                            return;
                        }
                    }
                    entries.push((key, node));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, marker: Marker) {
        let mark = mark_of(marker);
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(text, style, anchor, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_node(
                    Node {
                        mark,
                        kind: NodeKind::Scalar { text, quoted },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(mark, anchor, Vec::new()))
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(mark, anchor, Vec::new(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq(mark, anchor, items)) => (
                        Node {
                            mark,
                            kind: NodeKind::Seq(items),
                        },
                        anchor,
                    ),
                    Some(Frame::Map(mark, anchor, entries, _)) => (
                        Node {
                            mark,
                            kind: NodeKind::Map(entries),
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.push_node(node.0, node.1);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    mark,
                    kind: NodeKind::Scalar {
                        text: String::new(),
                        quoted: false,
                    },
                });
                self.push_node(node, 0);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// Parses one YAML document. An empty document is an empty mapping. Returns every problem
/// found: a syntax error (parsing stops there), duplicate keys, or more than one document.
pub fn parse(text: &str) -> Result<Node, Vec<YamlProblem>> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(err) = parser.load(&mut builder, true) {
        builder.problems.push(YamlProblem {
            mark: mark_of(*err.marker()),
            message: format!("invalid YAML: {}", err.info()),
        });
        return Err(builder.problems);
    }
    if builder.documents > 1 {
        builder.problems.push(YamlProblem {
            mark: Mark { line: 1, col: 1 },
            message: "expected a single YAML document".to_string(),
        });
    }
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    Ok(builder.root.unwrap_or(Node {
        mark: Mark { line: 1, col: 1 },
        kind: NodeKind::Map(Vec::new()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_lines_and_columns_of_keys_and_values() {
        let doc = parse("a: 1\nb:\n  c: [x, 'y']\n").unwrap();
        let entries = doc.map().unwrap();
        assert_eq!(entries[0].0.mark, Mark { line: 1, col: 1 });
        assert_eq!(entries[1].0.mark, Mark { line: 2, col: 1 });
        let c = doc.get("b").unwrap().map().unwrap();
        assert_eq!(c[0].0.mark, Mark { line: 3, col: 3 });
        let items = c[0].1.seq().unwrap();
        assert_eq!(items[1].mark, Mark { line: 3, col: 10 });
        assert_eq!(
            items[1].kind,
            NodeKind::Scalar {
                text: "y".into(),
                quoted: true
            }
        );
    }

    #[test]
    fn duplicate_keys_are_problems() {
        let problems = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].mark.line, 3);
        assert!(problems[0].message.contains("duplicate key `a`"));
        assert!(problems[0].message.contains("line 1"));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let problems = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(problems[0].message.starts_with("invalid YAML"));
        assert!(problems[0].mark.line >= 1);
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_core_schema() {
        let doc = parse("a: 1\nb: 0.5\nc: '1'\nd: ~\ne: true\nf: hello\n").unwrap();
        let v = doc.to_value();
        assert_eq!(v["a"], serde_yaml::Value::Number(1.into()));
        assert_eq!(v["b"], serde_yaml::Value::Number(0.5.into()));
        assert_eq!(v["c"], serde_yaml::Value::String("1".into()));
        assert_eq!(v["d"], serde_yaml::Value::Null);
        assert_eq!(v["e"], serde_yaml::Value::Bool(true));
        assert_eq!(v["f"], serde_yaml::Value::String("hello".into()));
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let doc = parse("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(doc.get("b").unwrap().get("k").unwrap().scalar(), Some("1"));
    }
}
