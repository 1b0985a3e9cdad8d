//! Matching an ARN against a policy's ARN pattern. IAM compares the six colon-separated
//! parts (`arn:partition:service:region:account:resource`) one by one, each with `*`/`?`
//! wildcards, so a wildcard never spans a colon except in the final resource part, which
//! may itself contain colons. A pattern with fewer than six parts (e.g. `arn:aws:*`) matches
//! nothing: the conservative reading, since such a pattern names no resource.

use super::glob::glob_match;

fn split_arn(s: &str) -> Option<[&str; 6]> {
    let mut parts = s.splitn(6, ':');
    let out = [
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    ];
    Some(out)
}

/// Whether `arn` matches `pattern` (case-sensitive, `*` alone matches everything).
pub(crate) fn arn_match(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match (split_arn(pattern), split_arn(arn)) {
        (Some(p), Some(a)) => p.iter().zip(a.iter()).all(|(p, a)| glob_match(p, a, false)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::arn_match;

    const ARN: &str = "arn:aws:neptune-db:us-east-1:123456789012:cluster-NEREID/*";

    #[test]
    fn arn_patterns() {
        assert!(arn_match("*", ARN));
        assert!(arn_match(ARN, ARN));
        assert!(arn_match("arn:aws:neptune-db:*:*:*", ARN));
        assert!(arn_match(
            "arn:aws:neptune-db:us-east-1:123456789012:cluster-NEREID/*",
            ARN
        ));
        assert!(arn_match("arn:aws:neptune-db:us-*-1:*:cluster-*", ARN));
        assert!(!arn_match("arn:aws:neptune-db:eu-west-2:*:*", ARN));
        assert!(!arn_match(
            "arn:aws:neptune-db:us-east-1:999999999999:*",
            ARN
        ));
        assert!(!arn_match("arn:aws:neptune-db:*:*:cluster-OTHER/*", ARN));
        // A wildcard inside one part does not eat the colons of the next.
        assert!(!arn_match(
            "arn:aws:neptune-db:us-east-1*:cluster-NEREID/*",
            ARN
        ));
        assert!(!arn_match("arn:aws:*", ARN));
        assert!(!arn_match("arn:aws:s3:::*", ARN));
    }
}
