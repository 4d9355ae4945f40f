//! Warnings and errors for humans, on standard error.

use std::fmt::Display;

/// Prints a warning.
pub fn warning(message: impl Display) {
    eprintln!("warning: {message}");
}

/// Prints an informational line (progress and results that are not the command's output).
pub fn info(message: impl Display) {
    eprintln!("{message}");
}

/// Prints an error and every cause under it.
pub fn error(error: &(dyn std::error::Error + 'static)) {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        for (number, line) in cause.to_string().lines().enumerate() {
            if number == 0 {
                eprintln!("  caused by: {line}");
            } else {
                eprintln!("    {line}");
            }
        }
        source = cause.source();
    }
}
