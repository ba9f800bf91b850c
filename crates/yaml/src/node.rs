//! The tree: nodes with their position, scalars resolved with the YAML 1.2 core schema.

use crate::diagnostic::Pos;

/// A scalar's type after resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `~`, `null`, or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer (`12`, `-3`, `0x1F`, `0o17`).
    Int(i64),
    /// A float (`0.5`, `1e3`, `.inf`, `.nan`).
    Float(f64),
    /// A string: any quoted or block scalar, or a plain one that is nothing else.
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
    /// Whether the scalar was quoted or a block scalar (`|`, `>`), which YAML never resolves to
    /// anything but a string; `false` for plain scalars and collections.
    pub quoted: bool,
}

impl Node {
    /// The string, if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text, Scalar::Str) => Some(text),
            _ => None,
        }
    }

    /// The scalar's text as written, whatever its type.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    /// The boolean, if this is `true` or `false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Scalar(_, Scalar::Bool(b)) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is an integer scalar.
    pub fn as_int(&self) -> Option<i64> {
        match self.value {
            Value::Scalar(_, Scalar::Int(i)) => Some(i),
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

    /// The key node and value of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// A short name for the kind of node, for messages (`a string`, `a list`, …).
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

    /// The node as a plain `serde_yaml::Value`, scalars as resolved.
    pub fn to_value(&self) -> serde_yaml::Value {
        use serde_yaml::Value as Plain;
        match &self.value {
            Value::Scalar(_, Scalar::Null) => Plain::Null,
            Value::Scalar(_, Scalar::Bool(b)) => Plain::Bool(*b),
            Value::Scalar(_, Scalar::Int(i)) => Plain::Number((*i).into()),
            Value::Scalar(_, Scalar::Float(f)) => Plain::Number((*f).into()),
            Value::Scalar(text, Scalar::Str) => Plain::String(text.clone()),
            Value::Seq(items) => Plain::Sequence(items.iter().map(Node::to_value).collect()),
            Value::Map(entries) => Plain::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_value(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The node as JSON text, as Python's `json.dumps` writes the value `ruamel.yaml` loads:
    /// `", "` and `": "` separators, non-ASCII escaped, floats in Python's `repr` (`NaN`,
    /// `Infinity`), keys as strings.
    pub fn to_python_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }
}

fn write_json(node: &Node, out: &mut String) {
    match &node.value {
        Value::Scalar(text, Scalar::Str) => write_json_str(text, out),
        Value::Scalar(..) => out.push_str(&json_scalar(node)),
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
                match &k.value {
                    Value::Scalar(text, Scalar::Str) => write_json_str(text, out),
                    // json.dumps turns None, booleans and numbers used as keys into strings.
                    Value::Scalar(..) => write_json_str(&json_scalar(k), out),
                    _ => write_json_str("", out),
                }
                out.push_str(": ");
                write_json(v, out);
            }
            out.push('}');
        }
    }
}

/// JSON text of a null, boolean or number scalar.
fn json_scalar(node: &Node) -> String {
    match &node.value {
        Value::Scalar(_, Scalar::Null) => "null".into(),
        Value::Scalar(_, Scalar::Bool(b)) => b.to_string(),
        Value::Scalar(_, Scalar::Int(i)) => i.to_string(),
        Value::Scalar(_, Scalar::Float(f)) if f.is_nan() => "NaN".into(),
        Value::Scalar(_, Scalar::Float(f)) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
        }
        Value::Scalar(_, Scalar::Float(f)) => files::python_float_repr(*f),
        Value::Scalar(text, Scalar::Str) => text.clone(),
        Value::Seq(_) | Value::Map(_) => String::new(),
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
