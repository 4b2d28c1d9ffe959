//! The process environment as plain data.
//!
//! Every detector reads an [`Env`] instead of `std::env`, so detection is a pure function that
//! tests drive from fixtures (no `set_var`, no races between tests).

use std::collections::BTreeMap;

/// Environment variables, with empty values dropped: SPEC.md says an empty variable counts as
/// unset, and doing it once here means no caller has to remember.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// Names of variables whose value is not UTF-8: they are left out of `vars`, but a setting
    /// such as the token must say "not UTF-8" rather than "missing".
    not_utf8: Vec<String>,
}

impl Env {
    /// The current process environment; variables whose name or value is not UTF-8 are skipped
    /// (their names are remembered, see [`Env::is_not_utf8`]).
    pub fn from_process() -> Env {
        let mut not_utf8 = Vec::new();
        let mut env = Env::from_pairs(std::env::vars_os().filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            match v.into_string() {
                Ok(v) => Some((k, v)),
                Err(_) => {
                    not_utf8.push(k);
                    None
                }
            }
        }));
        env.not_utf8 = not_utf8;
        env
    }

    /// Whether the marker variable `key` (`GITHUB_ACTIONS`, `CIRCLECI`, ...) is set to anything
    /// but `false` or `0` (compared without case or surrounding spaces; an empty variable is
    /// unset). Runners write `true`, `True` (`TF_BUILD`, AppVeyor on Windows) or `1` (Vercel,
    /// Cloudflare Pages), and some images and wrappers other values still; `false`/`0` is how a
    /// wrapper switches a marker off.
    pub fn marker(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| {
            let v = v.trim();
            !v.is_empty() && !v.eq_ignore_ascii_case("false") && v != "0"
        })
    }

    /// Whether `key` is set to a value that is not UTF-8 (and so missing from this map).
    pub fn is_not_utf8(&self, key: &str) -> bool {
        self.not_utf8.iter().any(|k| k == key)
    }

    /// Builds an environment from pairs (fixtures, tests).
    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            not_utf8: Vec::new(),
        }
    }

    /// Parses `KEY=VALUE` lines (fixture files); blank lines and `#` comments are skipped.
    pub fn from_env_file(text: &str) -> Env {
        Env::from_pairs(text.lines().filter_map(|line| {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            Some((k.trim().to_string(), v.to_string()))
        }))
    }

    /// The value of `key`, `None` when unset or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// Whether `key` is set to a non-empty value.
    pub fn has(&self, key: &str) -> bool {
        self.vars.contains_key(key)
    }

    /// The first of `keys` that is set, with its name (for provenance).
    pub fn first<'a>(&'a self, keys: &[&'a str]) -> Option<(&'a str, &'a str)> {
        keys.iter().find_map(|k| self.get(k).map(|v| (*k, v)))
    }

    /// Sets a variable (tests and fixtures only build environments this way).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.vars.insert(key.into(), value);
        }
    }

    /// Pairs, for envy (`crate::settings`).
    pub fn pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.vars.iter().map(|(k, v)| (k.clone(), v.clone()))
    }
}

/// A boolean setting's value (`ALLSTACKS_STRICT`, `ALLSTACKS_DRY_RUN`, ...): `true`, `1`,
/// `yes`, `on` or `false`, `0`, `no`, `off`, without case or surrounding spaces; `None` for
/// anything else. (A CI provider's marker variable is read more loosely: [`Env::marker`].)
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A value together with where it came from (`--service-id`, `GITHUB_SHA`, `git HEAD`, ...),
/// so `--dry-run` can show the provenance of every base field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: String,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: impl Into<String>) -> Sourced<T> {
        Sourced {
            value,
            source: source.into(),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sourced<U> {
        Sourced {
            value: f(self.value),
            source: self.source,
        }
    }
}

impl Env {
    /// `key`'s value tagged with `key` as its source.
    pub fn sourced(&self, key: &str) -> Option<Sourced<String>> {
        self.get(key).map(|v| Sourced::new(v.to_string(), key))
    }

    /// The first set of `keys`, tagged with its name.
    pub fn sourced_first(&self, keys: &[&str]) -> Option<Sourced<String>> {
        keys.iter().find_map(|k| self.sourced(k))
    }
}
