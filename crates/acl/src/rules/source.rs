//! HCL or JSON text -> one order-keeping tree ([`Node`]), so both syntaxes share a decoder.
//!
//! HCL mapping (HCL v1 style, as Consul decodes rules): an attribute `k = v` is the entry
//! `k: v`; a block `k "l1" "l2" { body }` is the entry `k: {l1: {l2: body}}`; a block written
//! twice gives two entries with the same name (the decoder reads every entry).

use hcl::eval::{Context, Evaluate};
use hcl::{Body, Structure};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A parsed value. Scalars keep their text form (`read`, `1`, `true`); `null` is empty text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Scalar(String),
    Object(Vec<(String, Node)>),
    List(Vec<Node>),
}

/// Parses rules text; JSON when the first non-blank character is `{`, else HCL.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str::<Node>(text).map_err(|e| e.to_string())
    } else {
        let body = match hcl::parse(text) {
            Ok(body) => body,
            // HCL v1 (Consul's parser) accepts several attributes or blocks on one line
            // (`{ policy = "read" intentions = "read" }`); HCL2 wants newlines. Retry with
            // newlines put in.
            Err(first) => match hcl1_newlines(text) {
                Some(fixed) => hcl::parse(&fixed).map_err(|_| first.to_string())?,
                None => return Err(first.to_string()),
            },
        };
        body_to_node(body)
    }
}

/// Rewrites HCL v1 one-line forms into HCL2: outside strings, comments and `[...]` lists, a
/// newline goes after every `{` and before every `}`, a `,` after a value is dropped, and a
/// value followed on the same line by the next attribute or block gets a newline between.
/// `None` when nothing changed.
fn hcl1_newlines(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut list_depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let value_end = match c {
            '"' => {
                let end = string_end(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
                true
            }
            '#' => {
                i = copy_until(&chars, i, &mut out, |c, _| c == '\n');
                false
            }
            '/' if next == Some('/') => {
                i = copy_until(&chars, i, &mut out, |c, _| c == '\n');
                false
            }
            '/' if next == Some('*') => {
                i = copy_until(&chars, i, &mut out, |c, prev| prev == Some('*') && c == '/');
                i = (i + 1).min(chars.len());
                out.push('/');
                false
            }
            _ => {
                match c {
                    '[' => list_depth += 1,
                    ']' => list_depth = list_depth.saturating_sub(1),
                    '}' if list_depth == 0 => out.push('\n'),
                    _ => {}
                }
                out.push(c);
                if c == '{' && list_depth == 0 {
                    out.push('\n');
                }
                i += 1;
                c == '}'
            }
        };
        if value_end && list_depth == 0 {
            i = after_value(&chars, i, &mut out);
        }
    }
    (out != text).then_some(out)
}

/// After a value ending at `i`: drops a following `,` and starts a new line when the next
/// attribute or block follows on the same line. Returns where to continue.
fn after_value(chars: &[char], i: usize, out: &mut String) -> usize {
    let mut j = i;
    while matches!(chars.get(j), Some(' ' | '\t')) {
        j += 1;
    }
    let comma = chars.get(j) == Some(&',');
    if comma {
        j += 1;
    }
    if comma || chars.get(j).is_some_and(|c| c.is_alphabetic() || *c == '_') {
        out.push('\n');
        return j;
    }
    i
}

/// Index just past the string literal starting at `start` (a `"`), honouring `\"` escapes.
fn string_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// Copies from `start` up to (not including) the first char where `stop(c, previous)`,
/// returning its index.
fn copy_until(
    chars: &[char],
    start: usize,
    out: &mut String,
    stop: impl Fn(char, Option<char>) -> bool,
) -> usize {
    let mut i = start;
    while i < chars.len() {
        let prev = if i > start { Some(chars[i - 1]) } else { None };
        if i > start + 1 && stop(chars[i], prev) {
            return i;
        }
        out.push(chars[i]);
        i += 1;
    }
    i
}

fn body_to_node(body: Body) -> Result<Node, String> {
    let ctx = Context::new();
    let mut entries = Vec::new();
    for structure in body.into_inner() {
        match structure {
            Structure::Attribute(attr) => {
                let value = attr.expr.evaluate(&ctx).map_err(|e| e.to_string())?;
                entries.push((attr.key.into_inner(), value_to_node(value)));
            }
            Structure::Block(block) => {
                let mut node = body_to_node(block.body)?;
                for label in block.labels.into_iter().rev() {
                    node = Node::Object(vec![(label.into_inner(), node)]);
                }
                entries.push((block.identifier.into_inner(), node));
            }
        }
    }
    Ok(Node::Object(entries))
}

fn value_to_node(value: hcl::Value) -> Node {
    match value {
        hcl::Value::Null => Node::Scalar(String::new()),
        hcl::Value::Bool(b) => Node::Scalar(b.to_string()),
        hcl::Value::Number(n) => Node::Scalar(n.to_string()),
        hcl::Value::String(s) => Node::Scalar(s),
        hcl::Value::Array(items) => Node::List(items.into_iter().map(value_to_node).collect()),
        hcl::Value::Object(map) => Node::Object(
            map.into_iter()
                .map(|(k, v)| (k, value_to_node(v)))
                .collect(),
        ),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(String::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(String::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.push((key, value));
        }
        Ok(Node::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: Vec<(&str, Node)>) -> Node {
        Node::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn s(text: &str) -> Node {
        Node::Scalar(text.to_string())
    }

    #[test]
    fn hcl_blocks_nest_by_label_and_keep_order() {
        let tree = parse("key \"b\" { policy = \"read\" }\nkey_prefix \"\" { policy = \"deny\" }\nacl = \"write\"")
            .expect("parses");
        let want = obj(vec![
            ("key", obj(vec![("b", obj(vec![("policy", s("read"))]))])),
            (
                "key_prefix",
                obj(vec![("", obj(vec![("policy", s("deny"))]))]),
            ),
            ("acl", s("write")),
        ]);
        assert_eq!(tree, want);
    }

    #[test]
    fn json_keeps_written_order() {
        let tree = parse(r#" {"z": "1", "a": {"x": null}}"#).expect("parses");
        let want = obj(vec![("z", s("1")), ("a", obj(vec![("x", s(""))]))]);
        assert_eq!(tree, want);
    }

    #[test]
    fn hcl1_one_line_bodies_are_accepted() {
        let text = "service \"web\" { policy = \"read\" intentions = \"write\" }  key \"a\" { policy = \"read\", }";
        let tree = parse(text).expect("parses");
        let want = obj(vec![
            (
                "service",
                obj(vec![(
                    "web",
                    obj(vec![("policy", s("read")), ("intentions", s("write"))]),
                )]),
            ),
            ("key", obj(vec![("a", obj(vec![("policy", s("read"))]))])),
        ]);
        assert_eq!(tree, want);
    }

    #[test]
    fn the_rewrite_leaves_strings_comments_and_lists_alone() {
        assert_eq!(hcl1_newlines("a = \"x { y\" # z \"q\" { w\n"), None);
        assert_eq!(hcl1_newlines("a = [\"x\", b]"), None);
        assert_eq!(
            hcl1_newlines("a = \"x\\\" y\" b = \"c\" /* \"d\" e */"),
            Some("a = \"x\\\" y\"\nb = \"c\" /* \"d\" e */".to_string())
        );
        assert_eq!(
            hcl1_newlines("k \"a\" { p = \"r\", }"),
            Some("k \"a\" {\n p = \"r\"\n \n}".to_string())
        );
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(parse("key \"a\" { policy = ").is_err());
        assert!(parse("{\"key\": ").is_err());
    }
}
