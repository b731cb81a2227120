//! `experiments validate`: a spec or a study checked without running it.
use std::path::Path;

use anyhow::Result;
use experiments::spec::{resolve_spec_path, Spec};
use experiments::study;

use crate::cli::ValidateArgs;

pub fn validate(args: ValidateArgs) -> Result<()> {
    let ValidateArgs { spec, no_files } = args;
    let path = resolve_spec_path(&spec)?;
    if study::file_is_study(&path) {
        return validate_study(&path, no_files);
    }
    let s = Spec::load(&path)?;
    let data = if no_files {
        "files not checked".to_string()
    } else {
        let c = experiments::preflight::check(&s, &path)?;
        format!("{} training images, {} classes", c.train, c.classes)
    };
    println!(
        "{}: ok ({} seed(s), {data}, run directories under {})",
        path.display(),
        s.seeds.len(),
        s.output.join(&s.name).display()
    );
    Ok(())
}

pub fn validate_study(path: &Path, no_files: bool) -> Result<()> {
    let graph = study::load_graph(path, None)?;
    let mut checked = 0;
    if !no_files {
        let mut problems = Vec::new();
        for (i, s) in study::states(&graph, &[]).iter().enumerate() {
            let id = &graph.nodes[i].id;
            match s {
                study::RunState::Blocked { reason } => problems.push(format!("{id}: {reason}")),
                s if s.is_runnable() => {
                    match experiments::preflight::check(&graph.spec(i)?, path) {
                        Ok(_) => checked += 1,
                        Err(e) => problems.push(format!("{id}: {e}")),
                    }
                }
                _ => {}
            }
        }
        anyhow::ensure!(
            problems.is_empty(),
            "{}: {} run(s) cannot start:\n  {}",
            path.display(),
            problems.len(),
            problems.join("\n  ")
        );
    }
    println!(
        "{}: ok (study of {} entries, {} runs; {})",
        path.display(),
        graph.study.entries.len(),
        graph.nodes.len(),
        if no_files {
            "files not checked".to_string()
        } else {
            format!("files of the {checked} runs that can start now checked")
        }
    );
    Ok(())
}
