//! The GitHub token, in a type that cannot be printed.
//!
//! `Debug` shows `Token(<redacted>)` and there is no `Display`, so no error message, log line or
//! `{:?}` of a settings struct can carry the secret by accident. The only way to the text is
//! [`Token::expose`], called where the `Authorization` header is built.

use std::fmt;

/// A GitHub token (`--token`, `GITHUB_TOKEN` or `GH_TOKEN`).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace (a trailing newline from a file or a secret) is
    /// dropped. An empty token is no token.
    pub fn new(text: &str) -> Option<Token> {
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| Token(trimmed.to_owned()))
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
        let token = Token::new(" ghs_s3cret\n").unwrap();
        assert_eq!(token.expose(), "ghs_s3cret");
        let shown = format!("{token:?} {:?}", Some(token.clone()));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(Token::new("  \n").is_none());
    }
}
