//! Who may post: GitHub's and Flux's HMAC-SHA256 signatures of the body, GitLab's token header
//! and Argo CD's Bearer token. Every comparison takes the same time whatever the input, and no
//! message quotes a signature or a token.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Checks a `sha256=<hex>` signature header (`X-Hub-Signature-256`, Flux's `X-Signature`)
/// against the HMAC-SHA256 of `body` with `secret`. `Err` says what was wrong, for the log.
pub fn signature(
    secret: &str,
    body: &[u8],
    header: Option<&str>,
    name: &str,
) -> Result<(), String> {
    let header = header.ok_or_else(|| format!("no {name} header"))?;
    let hex = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| format!("{name} is not of the form sha256=<hex>"))?;
    let given = decode_hex(hex).ok_or_else(|| format!("{name} is not of the form sha256=<hex>"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| "the secret cannot key an HMAC".to_string())?;
    mac.update(body);
    // `verify_slice` compares in constant time (and refuses a length other than 32).
    mac.verify_slice(&given)
        .map_err(|_| format!("{name} does not match the body (wrong secret, or a changed body)"))
}

/// Whether `given` equals `expected`, in time that does not depend on where they differ: both
/// are hashed to 32 bytes, which are compared without stopping at the first difference.
pub fn same_token(given: Option<&str>, expected: &str) -> bool {
    let Some(given) = given else {
        return false;
    };
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// `sha256:<hex>` of a body: the delivery id of senders that give none (Argo CD, Flux).
pub fn body_digest(body: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(body)))
}

/// The first 128 bits of SHA-256 of `text`: how the de-duplication store keeps a delivery id.
pub fn key_of(text: &str) -> u128 {
    let d = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_be_bytes(first)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
    const GITHUB_EXAMPLE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn signatures() {
        let secret = "It's a Secret to Everybody";
        let body = b"Hello, World!";
        let name = "X-Hub-Signature-256";
        assert_eq!(signature(secret, body, Some(GITHUB_EXAMPLE), name), Ok(()));
        let upper = GITHUB_EXAMPLE
            .to_ascii_uppercase()
            .replace("SHA256=", "sha256=");
        assert_eq!(signature(secret, body, Some(&upper), name), Ok(()));
        for (header, why) in [
            (None, "no X-Hub-Signature-256 header"),
            (Some("sha1=abc"), "not of the form"),
            (Some("sha256=zz"), "not of the form"),
            (Some("sha256=abcd"), "does not match"),
        ] {
            let e = signature(secret, body, header, name).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        let e = signature("other", body, Some(GITHUB_EXAMPLE), name).unwrap_err();
        assert!(e.contains("does not match") && !e.contains("757107"), "{e}");
        assert!(signature(secret, b"Hello, World?", Some(GITHUB_EXAMPLE), name).is_err());
    }

    #[test]
    fn tokens() {
        assert!(same_token(Some("abc-123"), "abc-123"));
        assert!(!same_token(Some("abc-124"), "abc-123"));
        assert!(!same_token(Some("abc-1234"), "abc-123"));
        assert!(!same_token(None, "abc-123"));
        assert_eq!(bearer(Some("Bearer  tok ")), Some("tok"));
        assert_eq!(bearer(Some("bearer tok")), Some("tok"));
        assert_eq!(bearer(Some("Basic tok")), None);
        assert_eq!(bearer(Some("tok")), None);
    }

    #[test]
    fn digests() {
        assert_eq!(
            body_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_ne!(key_of("github:a"), key_of("github:b"));
    }
}
