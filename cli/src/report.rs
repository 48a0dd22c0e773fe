//! `dgen report merge`: one report for the runs of N workers, from the JSON
//! reports that `dgen generate --json` and `dgen verify --json` print.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use dgen::storage::{self, Mismatch, Operation, Report, TargetKind};
use serde_json::Value;

use crate::out::outln;
use crate::{Failure, Outcome};

#[derive(Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge the JSON reports of workers that each wrote or verified a part
    /// (--part) into one: bytes and I/Os add up, GB/s runs from the first
    /// start to the last end, latency percentiles come from the sum of the
    /// histograms, and a verification fails when any part failed.
    Merge(MergeArgs),
}

#[derive(Args)]
struct MergeArgs {
    /// JSON reports, as `dgen generate --json` or `dgen verify --json` print them.
    #[arg(required = true, value_name = "REPORT.json")]
    files: Vec<PathBuf>,
    /// Print the merged report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn report(args: &ReportArgs) -> Outcome {
    match &args.command {
        ReportCommand::Merge(m) => merge(m),
    }
}

/// The JSON object in `text`: the whole text, or the last line that is one
/// (a report saved along with other output).
fn json_object(text: &str) -> Option<Value> {
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    text.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok().filter(Value::is_object))
}

/// A report read back from its JSON form.
fn from_json(v: &Value) -> Result<Report, String> {
    let text = |key: &str| v[key].as_str().ok_or_else(|| format!("no {key:?} text"));
    let int = |key: &str| v[key].as_u64().ok_or_else(|| format!("no {key:?} count"));
    let opt = |key: &str| v[key].as_u64();
    let num = |key: &str| v[key].as_f64().unwrap_or(0.0);
    let operation = match text("operation")? {
        "write" => Operation::Write,
        "verify" => Operation::Verify,
        other => return Err(format!("operation {other:?} is neither write nor verify")),
    };
    let target = match text("target")? {
        "file" => TargetKind::File,
        "block_device" => TargetKind::BlockDevice,
        _ => TargetKind::Stream,
    };
    let mut r = Report::new(operation, text("path")?, target, int("seed")?);
    r.engine = text("engine")?.to_string();
    r.offset = int("offset")?;
    r.length = int("length")?;
    r.bytes = int("bytes")?;
    r.prefix = int("prefix")?;
    r.ios = int("ios")?;
    r.seconds = num("seconds");
    r.sync_seconds = num("sync_seconds");
    r.generate_seconds = num("generate_seconds");
    r.io_seconds = num("io_seconds");
    r.worker_seconds = num("worker_seconds");
    r.jobs = int("jobs")? as usize;
    r.block_size = int("block_size")? as usize;
    r.iodepth = int("iodepth")? as usize;
    r.direct = v["direct"].as_bool().unwrap_or(false);
    r.interrupted = v["interrupted"].as_bool().unwrap_or(false);
    r.start_time = num("start_time");
    r.end_time = num("end_time");
    let hist = v["latency_histogram"]
        .as_str()
        .ok_or("no \"latency_histogram\": it was made by a dgen that does not record one; run it again")?;
    r.latency_histogram = storage::parse_histogram_text(hist)?;
    if operation == Operation::Verify {
        // `first_mismatch` is the key of reports from before it took the C
        // struct's name: parts saved by an older dgen still merge.
        if let Some(offset) = opt("mismatch_offset").or_else(|| opt("first_mismatch")) {
            let byte = |key: &str| opt(key).and_then(|b| u8::try_from(b).ok()).unwrap_or(0);
            r.first_mismatch = Some(Mismatch { offset, expected: byte("expected"), actual: byte("actual") });
        }
        r.wrong_blocks = int("wrong_blocks")?;
        r.missing_blocks = int("missing_blocks")?;
        r.blocks = int("blocks")?;
        r.data_end = opt("data_end");
        r.data_size = opt("data_size");
        r.extra_data = v["extra_data"].as_bool().unwrap_or(false);
    }
    Ok(r)
}

fn merge(args: &MergeArgs) -> Outcome {
    let mut reports = Vec::new();
    for path in &args.files {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
        let v = json_object(&text).ok_or_else(|| {
            Failure::usage(format!("{shown} holds no JSON report (dgen generate --json or dgen verify --json)"))
        })?;
        reports.push(from_json(&v).map_err(|e| Failure::usage(format!("{shown}: {e}")))?);
    }
    let m = storage::merge(&reports).map_err(|e| Failure::usage(e.to_string()))?;
    if args.json {
        // The keys of every report, after the number of reports merged.
        let json = m.to_json();
        outln!("{{\"reports\": {}, {}", reports.len(), &json[1..]);
    } else {
        let l = &m.latency;
        let verb = if m.operation == Operation::Write { "wrote" } else { "checked" };
        outln!("reports: {}", reports.len());
        outln!("path: {}", m.path);
        outln!("range: {} bytes at offset {}", m.length, m.offset);
        outln!(
            "{verb}: {} bytes in {:.2} s ({:.2} GB/s), {} I/Os ({:.0} IOPS)",
            m.bytes,
            m.seconds,
            m.gbps(),
            m.ios,
            m.iops()
        );
        outln!(
            "latency: p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, p99.9 {:.0} us, max {:.0} us, mean {:.0} us",
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max,
            l.mean
        );
        outln!("jobs: {} in all; {}", m.jobs, m.bottleneck());
        if m.operation == Operation::Verify {
            outln!("verdict: {}", if m.passed() { "ok" } else { "FAILED" });
        }
    }
    if let Some(problem) = m.problem() {
        return Err(Failure::runtime(format!("{}: {problem}", m.path)));
    }
    if m.interrupted {
        return Err(Failure::runtime("a part was interrupted: the merged run is incomplete"));
    }
    Ok(())
}
