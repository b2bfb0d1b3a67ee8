//! What the subcommands' options accept. Every number is checked by clap when the command line
//! is read, so a command never starts with a threshold of `NaN`, 20,000 threads or a batch too
//! large to allocate: a value out of range is a usage error (exit code 2) saying what is allowed.
//! The limits on records are one option group, taken by every command that reads records.

use std::ops::RangeInclusive;

/// Worker threads a command may start.
pub const JOBS: RangeInclusive<usize> = 1..=1024;

/// The limits on the records a command reads (`kensa::Limits`): every command that reads
/// records takes them, so a message naming `--max-record-bytes` or `--max-field-bytes` names an
/// option of the command that printed it.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ReadLimits {
    /// The largest record accepted, in bytes (`K`, `M`, `G` suffixes: 16M): a JSONL line, a CSV
    /// row, an element of a JSON array, a YAML file (read whole). A longer JSONL line or CSV row
    /// is skipped without being read into memory and reported as an error for that line.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "16M")]
    pub max_record_bytes: usize,
    /// The longest text value or field name of a record, in bytes (`K`, `M` suffixes); a longer
    /// one makes the record an error naming the field.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1M")]
    pub max_field_bytes: usize,
}

/// [`ReadLimits`] and the evaluation budget: the options of the commands that judge records.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct EvalLimits {
    #[command(flatten)]
    pub read: ReadLimits,
    /// Evaluation steps one record may take (each rule costs the nodes of its conditions, once
    /// more per registry candidate it looks at); a record that needs more is an error naming the rule.
    #[arg(long, value_name = "STEPS", value_parser = parse_steps, default_value_t = kensa::Limits::default().eval_budget)]
    pub eval_budget: u64,
    /// The wall-clock time judging one record may take (`500ms`, `2s`, `1m`; registry lookups
    /// aside); a record still being judged then is an error. Default: no time limit (the
    /// budget, which gives the same answer on any machine, bounds the work).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub eval_time: Option<std::time::Duration>,
}

impl ReadLimits {
    pub fn limits(&self) -> kensa::Limits {
        kensa::Limits {
            max_record_bytes: self.max_record_bytes,
            max_field_bytes: self.max_field_bytes,
            ..kensa::Limits::default()
        }
    }
}

impl EvalLimits {
    pub fn limits(&self) -> kensa::Limits {
        kensa::Limits { eval_budget: self.eval_budget, eval_time: self.eval_time, ..self.read.limits() }
    }
}

/// A `--today` value (any date format kensa reads, e.g. `2026-11-27` or `令和8年11月27日`).
pub fn parse_today(s: &str) -> Result<kensa::Date, String> {
    kensa::Date::parse(s).map_err(|e| format!("`{s}` is not a date: {e}"))
}

/// A size in bytes: `1048576`, `1024K`, `16M`, `1G` (also `KiB`, `MiB`, `GiB`; powers of 1024).
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("`{s}` is not a size: write bytes, e.g. `1048576`, `1024K` or `16M`")),
    };
    let n: usize = digits.parse().map_err(|_| format!("`{s}` is not a size: write bytes, e.g. `1048576` or `16M`"))?;
    if n == 0 {
        return Err(String::from("a size limit must be at least 1 byte"));
    }
    n.checked_mul(1usize << shift).ok_or_else(|| format!("`{s}` is too large"))
}

/// A number of worker threads, 1 to 1024 (leave the option out to use every core).
pub fn parse_jobs(s: &str) -> Result<usize, String> {
    let hint =
        format!("give {} to {} worker threads, or leave the option out to use every core", JOBS.start(), JOBS.end());
    match s.trim().parse::<usize>() {
        Ok(n) if JOBS.contains(&n) => Ok(n),
        Ok(_) => Err(format!("`{s}` threads are out of range: {hint}")),
        Err(_) => Err(format!("`{s}` is not a number: {hint}")),
    }
}

/// A match probability, 0 to 1.
pub fn parse_probability(s: &str) -> Result<f64, String> {
    parse_fraction(s, 0.0..=1.0, "a probability is a number from 0 to 1, e.g. `0.5`")
}

/// A percentage, 0 to 100.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    parse_fraction(s, 0.0..=100.0, "a percentage is a number from 0 to 100, e.g. `90`")
}

/// The EM tolerance: how far a probability may still move when EM stops, from 0 (run all
/// iterations) to below 1.
pub fn parse_tolerance(s: &str) -> Result<f64, String> {
    let t = parse_fraction(s, 0.0..=1.0, "the tolerance is a number from 0 to below 1, e.g. `1e-7`")?;
    if t >= 1.0 {
        return Err(format!("`{s}` is out of range: the tolerance is a number from 0 to below 1, e.g. `1e-7`"));
    }
    Ok(t)
}

fn parse_fraction(s: &str, range: RangeInclusive<f64>, what: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && range.contains(&x) => Ok(x),
        Ok(x) if x.is_finite() => Err(format!("`{s}` is out of range: {what}")),
        _ => Err(format!("`{s}` is not a number: {what}")),
    }
}

/// Evaluation steps per record: at least 1.
pub fn parse_steps(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number of steps: give a whole number of at least 1 (default {})",
            kensa::Limits::default().eval_budget
        )),
    }
}

/// A time limit: a whole number with a unit, `ms`, `s` or `m` (`500ms`, `2s`), from 1 ms to
/// one hour.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let hint = "give a time such as `500ms`, `2s` or `1m`, from 1ms to 60m";
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("`{s}` is not a time: {hint}"))?;
    let ms = match unit.trim() {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        _ => return Err(format!("`{s}` is not a time: {hint}")),
    };
    match ms {
        Some(ms @ 1..=3_600_000) => Ok(std::time::Duration::from_millis(ms)),
        _ => Err(format!("`{s}` is out of range: {hint}")),
    }
}

/// A whole number within `range`, for counts such as `--batch` or `--max-iterations`: a value
/// outside it would do nothing useful or allocate more memory than any machine has.
pub fn count_in(range: RangeInclusive<u64>) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    move |s: &str| {
        let hint = format!("give a whole number from {} to {}", range.start(), range.end());
        match s.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => usize::try_from(n).map_err(|_| format!("`{s}` is too large: {hint}")),
            Ok(_) => Err(format!("`{s}` is out of range: {hint}")),
            Err(_) => Err(format!("`{s}` is not a whole number: {hint}")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_non_numbers_are_refused() {
        assert_eq!(parse_probability("0").unwrap(), 0.0);
        assert_eq!(parse_probability("1").unwrap(), 1.0);
        for bad in ["NaN", "inf", "-inf", "1.0001", "-0.1", "x", ""] {
            assert!(parse_probability(bad).is_err(), "{bad}");
        }
        assert!(parse_percent("100").is_ok() && parse_percent("150").is_err());
        assert!(parse_tolerance("0").is_ok() && parse_tolerance("1").is_err() && parse_tolerance("NaN").is_err());
        assert_eq!(parse_jobs("1").unwrap(), 1);
        assert!(parse_jobs("0").is_err() && parse_jobs("1025").is_err() && parse_jobs("-1").is_err());
        assert!(parse_steps("0").is_err() && parse_steps("1").is_ok());
        let batch = count_in(1..=10);
        assert!(batch("0").is_err() && batch("10").is_ok() && batch("11").is_err());
        assert_eq!(parse_bytes("16M").unwrap(), 16 << 20);
        assert_eq!(parse_duration("500ms").unwrap(), std::time::Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), std::time::Duration::from_secs(2));
        assert!(parse_duration("0s").is_err() && parse_duration("2h").is_err() && parse_duration("61m").is_err());
        assert!(parse_bytes("0").is_err() && parse_bytes("1T").is_err());
    }
}
