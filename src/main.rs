//! The `rxdist` binary: everything lives in the library; this only hands back its exit code.

fn main() -> std::process::ExitCode {
    rxdist::main()
}
