//! The `rxdist` binary: everything lives in the library; this only hands back its exit code.

// Planning a million tests allocates and frees millions of small strings; mimalloc does that
// several times faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rxdist::main()
}
