//! The GitHub token, in a type that cannot be printed.
//!
//! `Debug` shows `Token(<redacted>)` and there is no `Display`, so no error message, log line or
//! `{:?}` of a settings struct can carry the secret by accident. The only way to the text is
//! [`Token::expose`], called where the `Authorization` header is built. Nothing that rejects a
//! token repeats it: parsing never fails (clap would print the value it rejected), and
//! [`Token::is_usable`] is checked where the error can name the source instead.

use std::fmt;

/// A GitHub token (`--token`, `GITHUB_TOKEN` or `GH_TOKEN`).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace (a trailing newline from a file or a secret) is
    /// dropped.
    pub fn new(text: &str) -> Token {
        Token(text.trim().to_owned())
    }

    /// Whether there is a token at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether it can travel in an HTTP header: visible ASCII only (no space, no control
    /// character).
    pub fn is_usable(&self) -> bool {
        !self.0.is_empty() && self.0.bytes().all(|byte| byte.is_ascii_graphic())
    }

    /// The secret itself: only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Token(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = Token::new(" ghs_s3cret\n");
        assert_eq!(token.expose(), "ghs_s3cret");
        let shown = format!("{token:?} {:?}", Some(token.clone()));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn only_header_safe_tokens_are_usable() {
        assert!(Token::new("ghp_ABC123-_.").is_usable());
        assert!(Token::new("  \n").is_empty());
        for bad in ["", "two words", "line\nbreak", "tab\tin", "ünïcode"] {
            assert!(!Token::new(bad).is_usable(), "{bad:?}");
        }
    }
}
