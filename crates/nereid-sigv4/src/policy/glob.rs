//! IAM wildcard matching: `*` matches any run of characters (also none), `?` exactly one.
//! The classic two-cursor algorithm with one backtrack point: O(pattern × text) at worst,
//! never exponential, so a hostile policy cannot stall a request.

/// Whether `text` matches `pattern`; with `ignore_case`, ASCII letters compare
/// case-insensitively (IAM action names), otherwise exactly (resources, `StringLike`).
pub(crate) fn glob_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` swallow one more character and retry after it.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn stars_and_question_marks() {
        assert!(glob_match("*", "", false));
        assert!(glob_match("*", "anything", false));
        assert!(glob_match(
            "neptune-db:Read*",
            "neptune-db:ReadDataViaQuery",
            false
        ));
        assert!(!glob_match(
            "neptune-db:Read*",
            "neptune-db:WriteDataViaQuery",
            false
        ));
        assert!(glob_match(
            "neptune-db:Get?ueryStatus",
            "neptune-db:GetQueryStatus",
            false
        ));
        assert!(!glob_match("a?", "a", false));
        assert!(glob_match("a*b*c", "axxbyyc", false));
        assert!(!glob_match("a*b*c", "axxbyy", false));
        assert!(glob_match("*Query", "neptune-db:CancelQuery", false));
        assert!(glob_match("**a**", "bab", false));
    }

    #[test]
    fn case_rules() {
        assert!(glob_match(
            "NEPTUNE-DB:read*",
            "neptune-db:ReadDataViaQuery",
            true
        ));
        assert!(!glob_match(
            "NEPTUNE-DB:read*",
            "neptune-db:ReadDataViaQuery",
            false
        ));
    }

    #[test]
    fn hostile_patterns_finish_quickly() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5000);
        assert!(!glob_match(&pattern, &text, false));
    }
}
