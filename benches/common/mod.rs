//! Pieces the benchmarks that generate JUnit reports share.

use std::io::{self, Write};

/// A small deterministic pseudo-random generator, so every run works on the same documents.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A writer that counts what goes through it, to stop at a target size.
pub struct Counting<W> {
    pub inner: W,
    pub written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A pytest-shaped `<failure ...>` start tag and its twelve-frame traceback (escaped), for the
/// generators' failing testcases; the caller closes the element.
pub fn write_failure_start(
    out: &mut impl Write,
    rng: &mut Rng,
    package: u64,
    module: u64,
    case: u64,
) -> io::Result<()> {
    write!(
        out,
        r#"<failure message="AssertionError: assert {a} == {b}&#10;  where {a} = compute(&apos;x&apos;)">"#,
        a = rng.below(1000),
        b = rng.below(1000)
    )?;
    for frame in 0..12 {
        writeln!(
            out,
            "tests/pkg_{package}/test_module_{module}.py:{frame}: in test_behaviour_{case}\n    result = compute(&quot;value&quot;, retries={frame})\nsrc/app/core.py:{}: in compute\n    return _inner(x) &lt; limit &amp;&amp; ok",
            frame * 13
        )?;
    }
    Ok(())
}
