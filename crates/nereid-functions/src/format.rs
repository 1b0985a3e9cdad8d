//! Text forms of numbers as Cypher prints them (`toString`, string concatenation).
//!
//! Floats follow Java's `Double.toString`, which Cypher implementations inherit: plain
//! decimal notation with at least one fractional digit for magnitudes in [10⁻³, 10⁷)
//! (`1.0`, `0.001`, `1234567.5`), computerised scientific notation otherwise (`1.0E7`,
//! `1.5E-4`), and the shortest digit string that reads back as the same double.

/// `toString` of a float.
pub fn float_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        // Rust's `Display` for f64 is the shortest round-trip string without an exponent.
        let mut s = x.to_string();
        if !s.contains('.') {
            s.push_str(".0");
        }
        s
    } else {
        // `{:e}` is the shortest round-trip mantissa, e.g. `1e10`, `-1.5e-5`.
        let s = format!("{x:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exponent}")
        } else {
            format!("{mantissa}.0E{exponent}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_java() {
        assert_eq!(float_to_string(1.0), "1.0");
        assert_eq!(float_to_string(2.3), "2.3");
        assert_eq!(float_to_string(-0.5), "-0.5");
        assert_eq!(float_to_string(0.001), "0.001");
        assert_eq!(float_to_string(0.0001), "1.0E-4");
        assert_eq!(float_to_string(1234567.5), "1234567.5");
        assert_eq!(float_to_string(1e7), "1.0E7");
        assert_eq!(float_to_string(1.5e10), "1.5E10");
        assert_eq!(float_to_string(-2.5e-7), "-2.5E-7");
        assert_eq!(float_to_string(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float_to_string(-0.0), "-0.0");
        assert_eq!(float_to_string(f64::NAN), "NaN");
        assert_eq!(float_to_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(float_to_string(f64::MAX), "1.7976931348623157E308");
    }
}
