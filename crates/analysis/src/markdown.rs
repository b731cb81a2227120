//! Frames as GitHub-flavoured Markdown tables, with the same number formats as the CSV
//! (floats with 2 decimals, empty cells for missing values), plus notes under the table.
use std::fmt::Write;

use polars::prelude::*;

fn cell(v: AnyValue, markdown: bool) -> String {
    let text = |s: &str| {
        if markdown {
            s.replace('|', "\\|")
        } else {
            s.to_string()
        }
    };
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) => format!("{x:.2}"),
        AnyValue::Float32(x) => format!("{x:.2}"),
        AnyValue::String(s) => text(s),
        AnyValue::StringOwned(s) => text(s.as_str()),
        other => other.to_string(),
    }
}

/// The cells of row `i`, formatted (for Markdown: `|` escaped).
pub fn row_cells(frame: &DataFrame, i: usize, markdown: bool) -> PolarsResult<Vec<String>> {
    frame
        .columns()
        .iter()
        .map(|c| Ok(cell(c.get(i)?, markdown)))
        .collect()
}

/// The frame as a Markdown table; `notes` follow as a bullet list.
pub fn to_markdown(title: &str, frame: &DataFrame, notes: &[String]) -> PolarsResult<String> {
    let mut out = String::new();
    let _ = writeln!(out, "# {title}\n");
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let _ = writeln!(out, "| {} |", names.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(names.len()));
    for i in 0..frame.height() {
        let _ = writeln!(out, "| {} |", row_cells(frame, i, true)?.join(" | "));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNotes:\n");
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    Ok(out)
}
