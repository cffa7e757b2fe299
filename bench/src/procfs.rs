//! Server resource use from /proc: CPU time and resident memory.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

/// Clock ticks per second of /proc CPU times: `getconf CLK_TCK`, or 100
/// (the Linux value) when getconf is unavailable.
pub fn clk_tck() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// User + system CPU time of process `pid`, all threads, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_stat_cpu(&stat).with_context(|| format!("parsing {path}"))
}

/// CPU time of `pid` as a duration, given `clk_tck`.
pub fn cpu_time(pid: u32, clk_tck: u64) -> Result<Duration> {
    let ticks = cpu_ticks(pid)?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clk_tck.max(1) as f64,
    ))
}

/// Resident set size of process `pid`, bytes (`VmRSS` in /proc/PID/status).
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status_rss(&status).with_context(|| format!("no VmRSS in {path}"))
}

/// `utime + stime` (fields 14 and 15) of a /proc/PID/stat line. The command
/// name (field 2) is in parentheses and may contain spaces and parentheses,
/// so fields are counted after the last `)`.
fn parse_stat_cpu(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    // rest starts at field 3 (state); utime is field 14 -> index 11.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn parse_status_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_tricky_command_name() {
        let stat =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat_cpu(stat), Some(1234 + 567));
        assert_eq!(parse_stat_cpu("garbage"), None);
    }

    #[test]
    fn rss_from_status() {
        let status = "Name:\tx\nVmPeak:\t 9 kB\nVmRSS:\t   2048 kB\n";
        assert_eq!(parse_status_rss(status), Some(2048 * 1024));
    }

    #[test]
    fn own_process_is_readable() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_ok());
        assert!(rss_bytes(pid).expect("rss") > 0);
        assert!(clk_tck() > 0);
    }
}
