//! The part of Go's `text/template` that the Argo CD template of `docs/relay-senders.md` uses,
//! rendered the way Argo CD's notifications engine renders it: the data is the application as
//! untyped JSON (`map[string]interface{}`), so a missing key is "no value" and prints
//! `<no value>`; `or`, `last` and `toJson` behave as Go's and Sprig's do.
//!
//! Supported: text; `{{.}}`, `{{.a.b}}`; `{{with P}}…{{else}}…{{end}}`;
//! `{{if P}}…{{else}}…{{end}}`; the functions `or`, `last` (of a list) and `toJson`, with
//! arguments that are fields or `.`, and `P | fn`. Anything else panics, so that a template
//! that grows past this subset fails its test rather than rendering wrongly.

use serde_json::Value;

/// A value as the template engine sees it: absent ("no value") or a JSON value.
#[derive(Debug, Clone)]
enum V {
    Missing,
    Json(Value),
}

impl V {
    /// Go's truth: false, 0, nil, an empty string, list or map, and no value are false.
    fn truthy(&self) -> bool {
        match self {
            V::Missing | V::Json(Value::Null) => false,
            V::Json(Value::Bool(b)) => *b,
            V::Json(Value::Number(n)) => n.as_f64() != Some(0.0),
            V::Json(Value::String(s)) => !s.is_empty(),
            V::Json(Value::Array(a)) => !a.is_empty(),
            V::Json(Value::Object(o)) => !o.is_empty(),
        }
    }

    /// What `{{…}}` prints.
    fn print(&self) -> String {
        match self {
            V::Missing => "<no value>".into(),
            V::Json(Value::Null) => "<nil>".into(),
            V::Json(Value::String(s)) => s.clone(),
            V::Json(Value::Number(n)) => n.to_string(),
            V::Json(Value::Bool(b)) => b.to_string(),
            V::Json(other) => panic!("printing a list or map is not in the subset: {other}"),
        }
    }

    /// `.name` of this value: a map's entry, or no value (a missing key, or below one).
    fn field(&self, name: &str) -> V {
        match self {
            V::Missing => V::Missing,
            V::Json(Value::Object(o)) => o.get(name).cloned().map_or(V::Missing, V::Json),
            V::Json(other) => panic!("can't evaluate field {name} in {other}"),
        }
    }
}

#[derive(Debug)]
enum Node {
    Text(String),
    Print(String),
    With(String, Vec<Node>, Vec<Node>),
    If(String, Vec<Node>, Vec<Node>),
}

/// Renders `template` with `data` as the dot (`{"app": <Application>}` for Argo CD).
pub fn render(template: &str, data: &Value) -> String {
    let mut tokens = tokens(template).into_iter();
    let (nodes, end) = parse(&mut tokens);
    assert!(
        end.is_none(),
        "unexpected {{{{{}}}}}",
        end.unwrap_or_default()
    );
    let mut out = String::new();
    run(&nodes, &V::Json(data.clone()), &mut out);
    out
}

/// Text and actions (the action's text, trimmed), in order.
fn tokens(template: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push((false, rest[..open].to_string()));
        let close = rest[open..].find("}}").expect("an action is closed") + open;
        let action = rest[open + 2..close].trim();
        assert!(
            !action.starts_with('-') && !action.ends_with('-'),
            "trim markers are not in the subset"
        );
        out.push((true, action.to_string()));
        rest = &rest[close + 2..];
    }
    out.push((false, rest.to_string()));
    out
}

/// Nodes up to `{{end}}` or `{{else}}` (returned) or the end of the template (`None`).
fn parse(tokens: &mut impl Iterator<Item = (bool, String)>) -> (Vec<Node>, Option<String>) {
    let mut nodes = Vec::new();
    while let Some((action, text)) = tokens.next() {
        if !action {
            nodes.push(Node::Text(text));
            continue;
        }
        let (word, rest) = text.split_once(' ').unwrap_or((text.as_str(), ""));
        match word {
            "end" | "else" => return (nodes, Some(word.to_string())),
            "with" | "if" => {
                let (then, end) = parse(tokens);
                let otherwise = match end.as_deref() {
                    Some("else") => {
                        let (otherwise, end) = parse(tokens);
                        assert_eq!(end.as_deref(), Some("end"), "{{{{{word}}}}} not ended");
                        otherwise
                    }
                    Some("end") => Vec::new(),
                    _ => panic!("{{{{{word}}}}} not ended"),
                };
                let pipe = rest.trim().to_string();
                nodes.push(if word == "with" {
                    Node::With(pipe, then, otherwise)
                } else {
                    Node::If(pipe, then, otherwise)
                });
            }
            _ => nodes.push(Node::Print(text)),
        }
    }
    (nodes, None)
}

fn run(nodes: &[Node], dot: &V, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(p) => out.push_str(&eval(p, dot).print()),
            Node::With(p, then, otherwise) => {
                let v = eval(p, dot);
                if v.truthy() {
                    run(then, &v, out);
                } else {
                    run(otherwise, dot, out);
                }
            }
            Node::If(p, then, otherwise) => {
                let branch = if eval(p, dot).truthy() {
                    then
                } else {
                    otherwise
                };
                run(branch, dot, out);
            }
        }
    }
}

/// A pipeline: `cmd` or `cmd | fn | …` (the value before each `|` is the function's last
/// argument).
fn eval(pipe: &str, dot: &V) -> V {
    let mut stages = pipe.split('|').map(str::trim);
    let first = stages.next().expect("a command");
    let mut value = command(first, dot, None);
    for stage in stages {
        value = command(stage, dot, Some(value));
    }
    value
}

fn command(cmd: &str, dot: &V, piped: Option<V>) -> V {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let (name, args) = words.split_first().expect("a command");
    let mut args: Vec<V> = args.iter().map(|a| operand(a, dot)).collect();
    args.extend(piped);
    match *name {
        "or" => {
            let last = args.last().cloned().expect("or takes arguments");
            args.into_iter().find(V::truthy).unwrap_or(last)
        }
        "last" => match args.as_slice() {
            [V::Json(Value::Array(list))] => {
                list.last().cloned().map_or(V::Json(Value::Null), V::Json)
            }
            other => panic!("last of {other:?}: an error in Argo CD too"),
        },
        "toJson" => {
            let json = match args.as_slice() {
                [V::Missing] | [V::Json(Value::Null)] => "null".to_string(),
                [V::Json(v)] => serde_json::to_string(v).expect("JSON"),
                other => panic!("toJson of {other:?}"),
            };
            // Go's encoding/json escapes these for HTML.
            V::Json(Value::String(
                json.replace('<', "\\u003c")
                    .replace('>', "\\u003e")
                    .replace('&', "\\u0026"),
            ))
        }
        _ if args.is_empty() => operand(name, dot),
        other => panic!("function {other} is not in the subset"),
    }
}

/// `.` or a field chain `.a.b.c`.
fn operand(word: &str, dot: &V) -> V {
    assert!(word.starts_with('.'), "operand {word} is not in the subset");
    word.split('.')
        .skip(1)
        .filter(|part| !part.is_empty())
        .fold(dot.clone(), |v, part| v.field(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_keys_print_no_value_and_the_rest_as_go_does() {
        let data = json!({"app": {"a": "x", "n": 3, "list": [{"id": 1}, {"id": 2}], "s": "<&>"}});
        assert_eq!(
            render("{{.app.a}}-{{.app.b}}-{{.app.b.c}}", &data),
            "x-<no value>-<no value>"
        );
        assert_eq!(render("{{with .app.b}}{{.}}{{end}}", &data), "");
        assert_eq!(
            render("{{with .app.a}}[{{.}}]{{else}}none{{end}}", &data),
            "[x]"
        );
        assert_eq!(render("{{or .app.b .app.a}}", &data), "x");
        assert_eq!(render("{{or .app.b .app.c}}", &data), "<no value>");
        assert_eq!(
            render(
                "{{with .app.list}}{{with last .}}{{.id}}{{end}}{{end}}",
                &data
            ),
            "2"
        );
        assert_eq!(
            render("{{toJson .app.b}} {{.app.s | toJson}}", &data),
            "null \"\\u003c\\u0026\\u003e\""
        );
        assert_eq!(render("{{if .app.n}}yes{{end}}", &data), "yes");
    }
}
