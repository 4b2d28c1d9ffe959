//! Name patterns for `--environments` and the relay's routes: `*` matches any run of
//! characters (also none), everything else matches itself, without regard to case. A tiny
//! matcher rather than a glob crate: nothing here is a path.

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    let text: Vec<char> = text.trim().chars().flat_map(char::to_lowercase).collect();
    // Greedy with backtracking to the last `*`: linear in practice, never exponential.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Whether `text` matches any of `patterns`.
pub fn any(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| matches(p, text))
}

/// A comma-separated list of patterns (blank entries dropped).
pub fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_case() {
        for (p, t) in [
            ("production", "Production"),
            ("prod*", "production"),
            ("*", ""),
            ("*-eu", "staging-eu"),
            ("a*b*c", "aXXbYYc"),
            ("acme/*", "acme/web"),
            ("*deploy*", "Nightly deploy (eu)"),
        ] {
            assert!(matches(p, t), "{p} ~ {t}");
        }
        for (p, t) in [
            ("prod", "production"),
            ("prod*", "preprod"),
            ("a*b*c", "aXXbYY"),
            ("acme/*", "other/web"),
            ("", "x"),
        ] {
            assert!(!matches(p, t), "{p} !~ {t}");
        }
        assert_eq!(
            list(" production, staging-* ,,"),
            ["production", "staging-*"]
        );
    }
}
