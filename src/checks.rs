//! Rules that one value obeys whatever field it fills: the job's fields (`job`), the optional
//! fields (`fields`) and the context fields a provider reports (`resolve`) go through the same
//! checks. Each error names the field, the rule and where the value came from.

use crate::env::Sourced;

/// Refuses a blank value (empty, or only spaces).
pub fn not_blank(field: &str, v: &Sourced<String>) -> Result<(), String> {
    if v.value.trim().is_empty() {
        return Err(format!("{field} must not be blank (from {})", v.source));
    }
    Ok(())
}

/// Refuses a value with control characters (line breaks, tabs, terminal escapes): it would be
/// stored as is and shown in logs and dashboards. Names the field, the rule and the source.
pub fn no_control_chars(field: &str, value: &str, source: &str) -> Result<(), String> {
    if !value.chars().any(char::is_control) {
        return Ok(());
    }
    Err(format!(
        "{field} must not contain control characters (line breaks, tabs, terminal escapes), \
         got {value:?} (from {source})"
    ))
}
