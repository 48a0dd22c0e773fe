//! `dgen state show`: what a write state file holds.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use dgen::state::WriteState;

use crate::out::outln;
use crate::{Failure, Outcome};

#[derive(Args)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
}

#[derive(Subcommand)]
enum StateCommand {
    /// The dataset a state describes, and its units: written, overwritten,
    /// latest version, writes in flight.
    Show {
        /// The state file (generate --state FILE made it).
        file: PathBuf,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub fn state(args: &StateArgs) -> Outcome {
    let StateCommand::Show { file, json } = &args.command;
    let (h, s) = WriteState::inspect(file).map_err(|e| Failure::of_kind(e.kind.into(), e.message))?;
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    if *json {
        let v = serde_json::json!({
            "path": file.display().to_string(),
            "format": h.format,
            "size": h.size,
            "dedup_unit": h.unit_bytes,
            "seed": h.seed,
            "dedup_ratio": h.dedup_ratio,
            "compress_ratio": h.compress_ratio,
            "compressor": h.compressor,
            "file_bytes": bytes,
            "units": s.units,
            "written": s.written,
            "first_pass": s.first_pass,
            "overwritten": s.overwritten,
            "max_version": s.max_version,
            "writes_claimed": s.writes_claimed,
            "writes_completed": s.writes_completed,
            "in_flight": s.in_flight,
            "ambiguous": s.ambiguous,
            "in_doubt": s.in_doubt,
        });
        outln!("{v}");
        return Ok(());
    }
    outln!("state: {} (format {}, {bytes} bytes: 8 per unit and a 4 KiB header)", file.display(), h.format);
    outln!(
        "dataset: --size {} --dedup {} --compress {} --compressor {} --dedup-unit {} --seed {}",
        h.size,
        h.dedup_ratio,
        h.compress_ratio,
        h.compressor,
        h.unit_bytes,
        h.seed
    );
    outln!(
        "units: {} in all, {} written ({} once, {} overwritten), {} never written",
        s.units,
        s.written,
        s.first_pass,
        s.overwritten,
        s.units - s.written
    );
    outln!(
        "versions: latest {}, {} unit writes claimed, {} completed",
        s.max_version,
        s.writes_claimed,
        s.writes_completed
    );
    outln!(
        "in flight: {} units now; {} may hold one of several versions; {} may never have been written",
        s.in_flight,
        s.ambiguous,
        s.in_doubt
    );
    Ok(())
}
