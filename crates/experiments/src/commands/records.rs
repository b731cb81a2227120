//! `publish`, `report` and `snapshot`: run records into results/, results/ into tables,
//! unfinished runs into results/in_progress/.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use experiments::study;

use crate::cli::{PublishArgs, ReportArgs, SnapshotArgs};

pub fn publish_cmd(args: PublishArgs) -> Result<()> {
    publish(&args.run_dir, &args.dest, args.half)
}

pub fn report_cmd(args: ReportArgs) -> Result<()> {
    report(args.results, args.published, args.setting.as_deref())
}

pub fn setting_names() -> String {
    let names: Vec<&str> = analysis::setting::SETTINGS.iter().map(|s| s.name).collect();
    names.join(", ")
}

pub fn report(results: PathBuf, published: PathBuf, only: Option<&str>) -> Result<()> {
    let paths = analysis::ReportPaths { results, published };
    let reports = match only {
        Some(name) => {
            let s = analysis::setting::setting(name).with_context(|| {
                format!("--setting {name}: unknown (one of {})", setting_names())
            })?;
            vec![analysis::report_setting(&paths, s)?]
        }
        None => analysis::report_all(&paths)?,
    };
    for r in &reports {
        println!(
            "{}: {} measured + {} published rows, {} files, {} notes",
            r.setting,
            r.measured_rows,
            r.published_rows,
            r.files.len(),
            r.notes.len()
        );
    }
    Ok(())
}

pub fn publish(run_dir: &Path, dest: &Path, half: bool) -> Result<()> {
    study::publish::publish_run(run_dir, dest, half)?;
    println!("published {} -> {}", run_dir.display(), dest.display());
    Ok(())
}

pub fn snapshot_cmd(a: SnapshotArgs) -> Result<()> {
    let runs = experiments::snapshot::snapshot(&a.output, &a.name, &a.dest, a.note.as_deref())?;
    let dest = a.dest.join(&a.name);
    for r in &runs {
        println!("{}/{}", dest.display(), r.dir_name);
    }
    print!(
        "{}",
        std::fs::read_to_string(dest.join("README.md")).unwrap_or_default()
    );
    Ok(())
}
