//! Ctrl-C and SIGTERM: recorded in a flag the run loop polls, so a cancelled CI job still gets
//! every finished result written before rxdist exits 130 or 143.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which signal asked rxdist to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (a cancelled CI job).
    Terminate,
}

/// The flags set by the signal handlers.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag {
    signal: Arc<AtomicUsize>,
}

const NONE: usize = 0;
const INT: usize = 2;
const TERM: usize = 15;

impl CancelFlag {
    /// Installs handlers for SIGINT and SIGTERM (no-op where there are none).
    pub fn install() -> std::io::Result<CancelFlag> {
        let flag = CancelFlag::default();
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            signal_hook::flag::register_usize(SIGINT, Arc::clone(&flag.signal), INT)?;
            signal_hook::flag::register_usize(SIGTERM, Arc::clone(&flag.signal), TERM)?;
        }
        Ok(flag)
    }

    /// The signal received, if any.
    pub fn get(&self) -> Option<Cancel> {
        match self.signal.load(Ordering::SeqCst) {
            NONE => None,
            TERM => Some(Cancel::Terminate),
            _ => Some(Cancel::Interrupt),
        }
    }

    /// Sets the flag as if `cancel` had been received (tests, and the global timeout path).
    pub fn raise(&self, cancel: Cancel) {
        let value = match cancel {
            Cancel::Interrupt => INT,
            Cancel::Terminate => TERM,
        };
        self.signal.store(value, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_is_seen() {
        let flag = CancelFlag::default();
        assert_eq!(flag.get(), None);
        flag.raise(Cancel::Terminate);
        assert_eq!(flag.get(), Some(Cancel::Terminate));
    }
}
