//! Starting a worker process in its own process group, and stopping it: SIGINT (pytest stops
//! cleanly and reports), then SIGTERM, then SIGKILL, each to the whole group so a test's own
//! subprocesses go too. On Windows, where there are no such signals, the process is killed.

use std::process::{Child, Command, ExitStatus};

/// The signals rxdist sends, in escalation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stop {
    /// Ask politely: pytest turns it into KeyboardInterrupt and still writes its report.
    Interrupt,
    /// Ask firmly.
    Terminate,
    /// Insist.
    Kill,
}

impl Stop {
    /// The next, firmer signal.
    pub fn next(self) -> Option<Stop> {
        match self {
            Stop::Interrupt => Some(Stop::Terminate),
            Stop::Terminate => Some(Stop::Kill),
            Stop::Kill => None,
        }
    }
}

/// Puts the command's process in a new process group, so terminal Ctrl-C reaches rxdist only
/// and rxdist decides what each worker gets.
pub fn isolate(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = command;
}

/// Sends `stop` to the child's process group.
pub fn signal(child: &mut Child, stop: Stop) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        let signal = match stop {
            Stop::Interrupt => Signal::SIGINT,
            Stop::Terminate => Signal::SIGTERM,
            Stop::Kill => Signal::SIGKILL,
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            // The group may already be gone; nothing to do then.
            let _ = killpg(Pid::from_raw(pid), signal);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = stop;
        let _ = child.kill();
    }
}

/// Kills whatever is left of the child's process group (a test's own subprocesses), after the
/// child itself has exited.
pub fn reap_group(child: &Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = child;
}

/// "killed by signal 11 (SIGSEGV)" or "exited with code 3".
pub fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(number) = status.signal() {
            let name = nix::sys::signal::Signal::try_from(number)
                .map(|signal| signal.as_str().to_owned())
                .unwrap_or_else(|_| "unknown signal".to_owned());
            return format!("killed by signal {number} ({name})");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended without an exit code".to_owned(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn exits_are_described_by_code_or_signal() {
        let status = Command::new("sh").args(["-c", "exit 3"]).status().unwrap();
        assert_eq!(describe_exit(status), "exited with code 3");
        let status = Command::new("sh")
            .args(["-c", "kill -SEGV $$"])
            .status()
            .unwrap();
        assert_eq!(describe_exit(status), "killed by signal 11 (SIGSEGV)");
    }

    #[test]
    fn a_stopped_group_takes_its_children_along() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 60 & sleep 60; wait"]);
        isolate(&mut command);
        let mut child = command.spawn().unwrap();
        signal(&mut child, Stop::Kill);
        let status = child.wait().unwrap();
        assert!(describe_exit(status).contains("SIGKILL"));
    }
}
