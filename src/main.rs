//! The `rxdist` binary: everything lives in the library; this only hands back its exit code.

// Planning a million tests allocates and frees millions of small strings; mimalloc does that
// several times faster than the system allocator. It is built without transparent huge pages
// (Cargo.toml, `no_thp`): each first touch of a huge page zeroes 2 MiB, so a process that
// lives a second and touches its memory once pays for pages it never uses. On CI virtual
// machines, whose hosts take freed memory back, that cost the merge of a million testcases
// a third more system time and 17 MiB; planning a million tests is about 5% slower without.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rxdist::main()
}
