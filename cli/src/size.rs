//! Byte sizes as people write them: `4096`, `64KiB`, `1.5GiB`, `10GB`, `4k`.

/// Parses a size. Binary units: KiB, MiB, GiB, TiB and the short K, M, G, T
/// (also k, m, g, t); decimal units: KB, MB, GB, TB; B or nothing for bytes.
/// A fraction is allowed with a unit (`1.5GiB`) when it comes to whole bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!("{text:?} is not a size (examples: 4096, 64KiB, 1GiB, 10GB)"));
    }
    let mult: u64 = match unit.trim() {
        "" | "B" | "b" => 1,
        "K" | "k" | "KiB" | "kiB" | "Ki" => 1 << 10,
        "M" | "m" | "MiB" | "Mi" => 1 << 20,
        "G" | "g" | "GiB" | "Gi" => 1 << 30,
        "T" | "t" | "TiB" | "Ti" => 1 << 40,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => return Err(format!("{text:?}: unknown unit {other:?} (use KiB, MiB, GiB, TiB, KB, MB, GB, TB)")),
    };
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult).ok_or_else(|| format!("{text:?} is larger than 2^64 - 1 bytes"));
    }
    let f: f64 = num.parse().map_err(|_| format!("{text:?} is not a size"))?;
    let bytes = f * mult as f64;
    if !bytes.is_finite() || bytes >= 18_446_744_073_709_551_615.0 {
        return Err(format!("{text:?} is larger than 2^64 - 1 bytes"));
    }
    if bytes.fract() != 0.0 {
        return Err(format!("{text:?} is not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn units() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("4k").unwrap(), 4096);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("10GB").unwrap(), 10_000_000_000);
        assert_eq!(parse_size("2 MiB").unwrap(), 2 << 20);
        for bad in ["", "abc", "-5", "1.5", "12XB", "99999999999TiB", "1.0000001KiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
