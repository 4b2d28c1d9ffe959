//! Optional fields: `--field NAME[:TYPE]=VALUE`, `ALLSTACKS_FIELDS` (one per line) and
//! `--fields-json` (the webhook's own array format), turned into typed, validated fields.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::checks::no_control_chars;
use crate::env::Sourced;
use crate::timefmt::{parse_duration, parse_timestamp};

/// At most this many fields, and this many values in one field (CONTRACT.md).
pub const MAX_FIELDS: usize = 20;
pub const MAX_VALUES: usize = 20;

/// The five types the webhook knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Float,
    Duration,
    Timestamp,
}

impl FieldType {
    pub fn parse(text: &str) -> Option<FieldType> {
        Some(match text {
            "string" => FieldType::String,
            "integer" => FieldType::Integer,
            "float" => FieldType::Float,
            "duration" => FieldType::Duration,
            "timestamp" => FieldType::Timestamp,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Duration => "duration",
            FieldType::Timestamp => "timestamp",
        }
    }

    /// Converts one textual value (from `--field`) to its JSON form.
    fn convert(self, text: &str) -> Result<Value, String> {
        Ok(match self {
            FieldType::String => Value::from(text),
            FieldType::Integer => Value::from(
                text.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("expected an integer, got {text:?}"))?,
            ),
            FieldType::Float => {
                let f = text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| format!("expected a number, got {text:?}"))?;
                Value::from(f)
            }
            FieldType::Duration => Value::from(parse_duration(text)?),
            FieldType::Timestamp => Value::from(parse_timestamp(text)?),
        })
    }

    /// Checks a JSON value (from `--fields-json`) against the type.
    fn check(self, value: &Value) -> Result<(), String> {
        let ok = match self {
            FieldType::String => value.is_string(),
            FieldType::Integer | FieldType::Timestamp => value.is_i64() || value.is_u64(),
            FieldType::Duration => value.is_u64(),
            FieldType::Float => value.is_number(),
        };
        if ok {
            return Ok(());
        }
        let want = match self {
            FieldType::String => "a JSON string",
            FieldType::Integer => "a JSON integer",
            FieldType::Float => "a JSON number",
            FieldType::Duration => "a whole number of seconds (JSON integer >= 0)",
            FieldType::Timestamp => "epoch seconds (JSON integer)",
        };
        Err(format!(
            "a {} value must be {want}, got {value}",
            self.as_str()
        ))
    }
}

/// One element of `optional`.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionalField {
    pub key: String,
    pub ty: FieldType,
    pub values: Vec<Value>,
    /// Where it came from, for error messages (`--field`, `ALLSTACKS_FIELDS line 2`, ...).
    pub source: String,
}

impl Serialize for OptionalField {
    /// `{"key": …, "value": v or [v, …], "type": …}`: one value is sent bare, several as a list.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("key", &self.key)?;
        match self.values.as_slice() {
            [one] => map.serialize_entry("value", one)?,
            many => map.serialize_entry("value", many)?,
        }
        map.serialize_entry("type", self.ty.as_str())?;
        map.end()
    }
}

/// A rule of the contract that optional fields broke; names the field, the rule and the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(pub String);

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldError {}

fn err(msg: String) -> FieldError {
    FieldError(msg)
}

/// Parses `NAME[:TYPE]=VALUE` specs, in order; a repeated NAME appends to its list.
pub fn from_specs(specs: &[Sourced<String>]) -> Result<Vec<OptionalField>, FieldError> {
    let mut fields: Vec<OptionalField> = Vec::new();
    for spec in specs {
        let text = spec.value.as_str();
        let src = &spec.source;
        let (lhs, value) = text.split_once('=').ok_or_else(|| {
            err(format!(
                "optional field {text:?} (from {src}) must look like NAME=VALUE or NAME:TYPE=VALUE"
            ))
        })?;
        let (name, ty) = match lhs.rsplit_once(':') {
            Some((name, ty)) => {
                let parsed = FieldType::parse(ty.trim()).ok_or_else(|| {
                    err(format!(
                        "optional field {:?} (from {src}) has unknown type {ty:?}: use string, \
                         integer, float, duration or timestamp",
                        name.trim()
                    ))
                })?;
                (name.trim(), parsed)
            }
            None => (lhs.trim(), FieldType::String),
        };
        if name.is_empty() {
            return Err(err(format!(
                "optional field {text:?} (from {src}) has an empty name"
            )));
        }
        let json = ty.convert(value).map_err(|e| {
            err(format!(
                "optional field {name:?} of type {} (from {src}): {e}",
                ty.as_str()
            ))
        })?;
        match fields.iter_mut().find(|f| f.key == name) {
            Some(existing) if existing.ty != ty => {
                return Err(err(format!(
                    "optional field {name:?} is given two types, {} and {} (from {src}): \
                     one name has one type",
                    existing.ty.as_str(),
                    ty.as_str()
                )));
            }
            Some(existing) => existing.values.push(json),
            None => fields.push(OptionalField {
                key: name.to_string(),
                ty,
                values: vec![json],
                source: src.clone(),
            }),
        }
    }
    Ok(fields)
}

/// Splits `ALLSTACKS_FIELDS` into one spec per non-blank line, each tagged with its line.
pub fn lines_of(text: &str, var: &str) -> Vec<Sourced<String>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Sourced::new(l.trim().to_string(), format!("{var} line {}", i + 1)))
        .collect()
}

/// Parses the webhook's own format: `[{"key": …, "value": v or [v, …], "type": …}, …]`.
pub fn from_json(json: &str, source: &str) -> Result<Vec<OptionalField>, FieldError> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        err(format!(
            "optional fields JSON (from {source}) is not valid JSON: {e}"
        ))
    })?;
    let items = value.as_array().ok_or_else(|| {
        err(format!(
            "optional fields JSON (from {source}) must be an array of {{\"key\", \"value\", \"type\"}} objects"
        ))
    })?;
    let mut fields: Vec<OptionalField> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("element {} of {source}", i + 1);
        let obj = item
            .as_object()
            .ok_or_else(|| err(format!("optional field at {at} must be an object")))?;
        let key = obj
            .get("key")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                err(format!(
                    "optional field at {at} needs a non-empty string \"key\""
                ))
            })?;
        let ty_text = obj.get("type").and_then(Value::as_str).unwrap_or("string");
        let ty = FieldType::parse(ty_text).ok_or_else(|| {
            err(format!(
                "optional field {key:?} ({at}) has unknown type {ty_text:?}: use string, integer, \
                 float, duration or timestamp"
            ))
        })?;
        let values = match obj.get("value") {
            None | Some(Value::Null) => {
                return Err(err(format!(
                    "optional field {key:?} ({at}) has no \"value\""
                )));
            }
            Some(Value::Array(list)) => list.clone(),
            Some(one) => vec![one.clone()],
        };
        if values.is_empty() {
            return Err(err(format!(
                "optional field {key:?} ({at}) has an empty value list"
            )));
        }
        for v in &values {
            ty.check(v)
                .map_err(|e| err(format!("optional field {key:?} ({at}): {e}")))?;
        }
        if fields.iter().any(|f| f.key == key) {
            return Err(err(format!(
                "optional field {key:?} appears twice in {source}: each key appears once, \
                 with several values in its list"
            )));
        }
        fields.push(OptionalField {
            key: key.to_string(),
            ty,
            values,
            source: at,
        });
    }
    Ok(fields)
}

/// Joins the `--field` fields and the `--fields-json` fields; a key in both is an error.
pub fn combine(
    specs: Vec<OptionalField>,
    json: Vec<OptionalField>,
) -> Result<Vec<OptionalField>, FieldError> {
    let mut all = specs;
    for f in json {
        if let Some(other) = all.iter().find(|o| o.key == f.key) {
            return Err(err(format!(
                "optional field {:?} is set both in {} and in {}: set it in one place",
                f.key, other.source, f.source
            )));
        }
        all.push(f);
    }
    Ok(all)
}

/// The contract's limits: at most 20 fields, at most 20 values each.
pub fn check_limits(fields: &[OptionalField]) -> Result<(), FieldError> {
    if fields.len() > MAX_FIELDS {
        return Err(err(format!(
            "{} optional fields given ({}): the webhook takes at most {MAX_FIELDS}",
            fields.len(),
            fields
                .iter()
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for f in fields {
        no_control_chars("optional field key", &f.key, &f.source).map_err(FieldError)?;
        for v in &f.values {
            if let Some(s) = v.as_str() {
                no_control_chars(&format!("optional field {:?}", f.key), s, &f.source)
                    .map_err(FieldError)?;
            }
        }
    }
    if let Some(f) = fields.iter().find(|f| f.values.len() > MAX_VALUES) {
        return Err(err(format!(
            "optional field {:?} (from {}) has {} values: the webhook takes at most {MAX_VALUES} \
             in one field",
            f.key,
            f.source,
            f.values.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn specs(list: &[&str]) -> Vec<Sourced<String>> {
        list.iter()
            .map(|s| Sourced::new(s.to_string(), "--field"))
            .collect()
    }

    #[test]
    fn typed_specs_and_lists() {
        let f = from_specs(&specs(&[
            "microservice=frontend",
            "microservice=backend",
            "lead_time:duration=1h30m",
            "float_key:float=20.5",
            "qa_approved_on:timestamp=2023-12-31T10:20:30Z",
            "count:integer=-3",
            "url=https://x/?a=b",
        ]))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!([
                {"key": "microservice", "value": ["frontend", "backend"], "type": "string"},
                {"key": "lead_time", "value": 5400, "type": "duration"},
                {"key": "float_key", "value": 20.5, "type": "float"},
                {"key": "qa_approved_on", "value": 1704018030, "type": "timestamp"},
                {"key": "count", "value": -3, "type": "integer"},
                {"key": "url", "value": "https://x/?a=b", "type": "string"},
            ])
        );
    }

    #[test]
    fn spec_errors_name_field_rule_and_source() {
        let e = from_specs(&specs(&["n:integer=abc"])).unwrap_err().0;
        assert!(
            e.contains("\"n\"") && e.contains("integer") && e.contains("--field"),
            "{e}"
        );
        let e = from_specs(&specs(&["n:bool=1"])).unwrap_err().0;
        assert!(e.contains("unknown type \"bool\""), "{e}");
        let e = from_specs(&specs(&["n=1", "n:integer=2"])).unwrap_err().0;
        assert!(e.contains("two types"), "{e}");
        assert!(from_specs(&specs(&["novalue"])).is_err());
        assert!(from_specs(&specs(&["=x"])).is_err());
        assert!(from_specs(&specs(&["f:float=nan"])).is_err());
    }

    #[test]
    fn json_format() {
        let f = from_json(
            r#"[{"key":"a","value":[1,2],"type":"integer"},{"key":"b","value":"x","type":"string"}]"#,
            "--fields-json",
        )
        .unwrap();
        assert_eq!(f[0].values, vec![json!(1), json!(2)]);
        assert!(from_json(r#"[{"key":"a","value":"1","type":"integer"}]"#, "x").is_err());
        assert!(from_json(r#"[{"key":"a","value":-1,"type":"duration"}]"#, "x").is_err());
        assert!(from_json(r#"[{"key":"a","value":1,"type":"bool"}]"#, "x").is_err());
        assert!(from_json(r#"[{"key":"a","value":1},{"key":"a","value":2}]"#, "x").is_err());
        assert!(from_json(r#"{"key":"a"}"#, "x").is_err());
    }

    #[test]
    fn combine_rejects_shared_keys() {
        let a = from_specs(&specs(&["k=1"])).unwrap();
        let b = from_json(
            r#"[{"key":"k","value":"2","type":"string"}]"#,
            "--fields-json",
        )
        .unwrap();
        let e = combine(a, b).unwrap_err().0;
        assert!(e.contains("--field") && e.contains("--fields-json"), "{e}");
    }

    #[test]
    fn limits() {
        let many: Vec<String> = (0..21).map(|i| format!("k{i}=v")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let f = from_specs(&specs(&refs)).unwrap();
        assert!(check_limits(&f).unwrap_err().0.contains("at most 20"));
        assert!(check_limits(&f[..20]).is_ok());
        let values: Vec<String> = (0..21).map(|i| format!("k=v{i}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let f = from_specs(&specs(&refs)).unwrap();
        assert!(check_limits(&f).unwrap_err().0.contains("21 values"));
    }
}
