//! How many worker processes `-n` means.
//!
//! `auto` is the CPUs this process may actually use: the standard library's count already
//! honours the affinity mask and the cgroup CPU quota (a container limited to 2 CPUs on a
//! 64-core host gets 2). `logical` is every logical CPU the machine has online, whatever the
//! limits. `PYTEST_XDIST_AUTO_NUM_WORKERS` overrides `auto` and `logical`, as in pytest-xdist.

use std::num::NonZeroUsize;
use std::str::FromStr;

/// The `-n` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerCount {
    /// Usable CPUs.
    Auto,
    /// Logical CPUs of the machine.
    Logical,
    /// Exactly this many.
    Fixed(NonZeroUsize),
}

impl FromStr for WorkerCount {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(WorkerCount::Auto),
            "logical" => Ok(WorkerCount::Logical),
            number => number
                .parse::<NonZeroUsize>()
                .map(WorkerCount::Fixed)
                .map_err(|_| format!("expected auto, logical or a positive number, got {text:?}")),
        }
    }
}

impl WorkerCount {
    /// Resolves to a number, given `PYTEST_XDIST_AUTO_NUM_WORKERS` if set.
    pub fn resolve(self, auto_override: Option<&str>) -> Result<usize, String> {
        if let WorkerCount::Fixed(n) = self {
            return Ok(n.get());
        }
        if let Some(text) = auto_override {
            return text
                .trim()
                .parse::<NonZeroUsize>()
                .map(NonZeroUsize::get)
                .map_err(|_| {
                    format!("PYTEST_XDIST_AUTO_NUM_WORKERS must be a positive number, got {text:?}")
                });
        }
        Ok(match self {
            WorkerCount::Logical => logical_cpus(),
            _ => usable_cpus(),
        })
    }
}

/// CPUs this process may use (affinity and cgroup quota).
pub fn usable_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Logical CPUs online on the machine.
pub fn logical_cpus() -> usize {
    #[cfg(target_os = "linux")]
    {
        if let Ok(text) = std::fs::read_to_string("/sys/devices/system/cpu/online")
            && let Some(count) = count_cpu_list(&text)
        {
            return count;
        }
    }
    usable_cpus()
}

/// Counts a kernel CPU list such as `0-3,8,10-11`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn count_cpu_list(text: &str) -> Option<usize> {
    let mut count = 0;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((low, high)) => {
                let (low, high): (usize, usize) = (low.parse().ok()?, high.parse().ok()?);
                count += high.checked_sub(low)? + 1;
            }
            None => {
                part.parse::<usize>().ok()?;
                count += 1;
            }
        }
    }
    (count > 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!("auto".parse(), Ok(WorkerCount::Auto));
        assert_eq!("logical".parse(), Ok(WorkerCount::Logical));
        assert_eq!(
            "3".parse(),
            Ok(WorkerCount::Fixed(NonZeroUsize::new(3).unwrap()))
        );
        assert!("0".parse::<WorkerCount>().is_err());
        assert!("many".parse::<WorkerCount>().is_err());
    }

    #[test]
    fn the_xdist_variable_overrides_auto_but_not_a_number() {
        assert_eq!(WorkerCount::Auto.resolve(Some("7")), Ok(7));
        assert_eq!(WorkerCount::Logical.resolve(Some("5")), Ok(5));
        let two = WorkerCount::Fixed(NonZeroUsize::new(2).unwrap());
        assert_eq!(two.resolve(Some("7")), Ok(2));
        assert!(WorkerCount::Auto.resolve(Some("x")).is_err());
        assert!(WorkerCount::Auto.resolve(None).unwrap() >= 1);
    }

    #[test]
    fn cpu_lists_count_ranges_and_singles() {
        assert_eq!(count_cpu_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("garbage"), None);
    }
}
