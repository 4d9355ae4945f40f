//! Checking a downloaded artifact and taking the history file out of it (pure: bytes in,
//! bytes out).
//!
//! The zip is untrusted. Nothing is ever extracted to disk and no name from the zip becomes a
//! path: the archive must hold exactly one entry, a file at its root with the expected name,
//! and that one entry is read into memory through a cap, whatever size the zip claims for it.

use std::fmt::Write as _;
use std::io::{Cursor, Read};

use sha2::{Digest as _, Sha256};

use super::GithubError;

/// How many member names a complaint about the zip's content lists.
const NAMES_SHOWN: usize = 5;

/// Checks `bytes` against GitHub's `digest` (`sha256:<hex>`).
pub fn verify_digest(artifact: u64, bytes: &[u8], digest: &str) -> Result<(), GithubError> {
    let expected = digest
        .strip_prefix("sha256:")
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .ok_or_else(|| GithubError::UnknownDigest {
            artifact,
            digest: digest.to_owned(),
        })?
        .to_ascii_lowercase();
    let actual = Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    if actual == expected {
        Ok(())
    } else {
        Err(GithubError::DigestMismatch {
            artifact,
            expected: format!("sha256:{expected}"),
            actual: format!("sha256:{actual}"),
        })
    }
}

/// The content of the single root file `expected` of the zip `bytes`, at most `limit` bytes.
pub fn read_member(
    artifact: u64,
    bytes: &[u8],
    expected: &str,
    limit: u64,
) -> Result<Vec<u8>, GithubError> {
    let zip_error = |source| GithubError::Zip { artifact, source };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    // Raw names: compared byte for byte, and shown escaped, whatever encoding the zip claims.
    let names: Vec<&[u8]> = archive.file_names_raw().collect();
    if names.len() != 1 || names[0] != expected.as_bytes() {
        let mut found: Vec<String> = names
            .iter()
            .take(NAMES_SHOWN)
            .map(|name| format!("{:?}", String::from_utf8_lossy(name)))
            .collect();
        if names.len() > NAMES_SHOWN {
            found.push(format!("and {} more", names.len() - NAMES_SHOWN));
        }
        return Err(GithubError::Members {
            artifact,
            expected: expected.to_owned(),
            found: if found.is_empty() {
                "nothing".to_owned()
            } else {
                found.join(", ")
            },
        });
    }
    let too_large = || GithubError::MemberTooLarge {
        artifact,
        name: expected.to_owned(),
        limit,
    };
    let member = archive.by_index(0).map_err(zip_error)?;
    if !member.is_file() {
        return Err(GithubError::Members {
            artifact,
            expected: expected.to_owned(),
            found: format!("a directory {expected:?}"),
        });
    }
    // The declared size is only a first check: a crafted zip can lie about it.
    if member.size() > limit {
        return Err(too_large());
    }
    let mut content = Vec::new();
    // Reading to the end also checks the entry's CRC-32.
    member
        .take(limit.saturating_add(1))
        .read_to_end(&mut content)
        .map_err(|error| zip_error(zip::result::ZipError::Io(error)))?;
    if content.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            writer
                .start_file(*name, SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn reads_the_one_expected_member() {
        let zip = zip_of(&[("history.zst", b"payload")]);
        assert_eq!(
            read_member(1, &zip, "history.zst", 100).unwrap(),
            b"payload"
        );
    }

    #[test]
    fn refuses_other_names_extra_members_and_traversal() {
        for entries in [
            vec![("other.zst", &b"x"[..])],
            vec![("history.zst", &b"x"[..]), ("extra", &b"y"[..])],
            vec![("../history.zst", &b"x"[..])],
            vec![("dir/history.zst", &b"x"[..])],
        ] {
            let zip = zip_of(&entries);
            let error = read_member(1, &zip, "history.zst", 100).unwrap_err();
            assert!(matches!(error, GithubError::Members { .. }), "{error}");
        }
        let error = read_member(1, &zip_of(&[]), "history.zst", 100).unwrap_err();
        assert!(error.to_string().contains("holds nothing"), "{error}");
    }

    #[test]
    fn a_member_over_the_limit_is_refused() {
        let zip = zip_of(&[("history.zst", &[0_u8; 10_000][..])]);
        assert!(zip.len() < 1_000, "deflate shrinks zeros");
        let error = read_member(1, &zip, "history.zst", 9_999).unwrap_err();
        assert!(
            matches!(error, GithubError::MemberTooLarge { .. }),
            "{error}"
        );
        assert!(read_member(1, &zip, "history.zst", 10_000).is_ok());
    }

    #[test]
    fn garbage_is_no_zip() {
        let error = read_member(1, b"not a zip at all", "history.zst", 100).unwrap_err();
        assert!(matches!(error, GithubError::Zip { .. }), "{error}");
    }

    #[test]
    fn digests() {
        let bytes = b"abc";
        let good = "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        verify_digest(1, bytes, good).unwrap();
        let bad = format!("sha256:{}", "0".repeat(64));
        assert!(matches!(
            verify_digest(1, bytes, &bad),
            Err(GithubError::DigestMismatch { .. })
        ));
        for odd in [
            "md5:900150983cd24fb0d6963f7d28e17f72",
            "sha256:abc",
            "sha256:",
        ] {
            assert!(matches!(
                verify_digest(1, bytes, odd),
                Err(GithubError::UnknownDigest { .. })
            ));
        }
    }
}
