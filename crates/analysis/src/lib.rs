//! Results analysis for the C2S2 reproduction: reads run records (`summary.json`,
//! `metrics.csv`, latency CSVs) and the published numbers, and writes the thesis's
//! tables (polars: CSV + Markdown) and plots (plotters: PNG + SVG).
//!
//! This crate does not depend on libtorch: reports build anywhere.
pub mod collect;
pub mod error;
pub mod latency;
pub mod layers;
pub mod markdown;
pub mod plots;
pub mod points;
pub mod published;
pub mod record;
pub mod report;
pub mod setting;
pub mod table;
pub mod tradeoffs;

pub use collect::VARIANT_SEPARATOR;
pub use error::{write_atomic, AnalysisError, Result};
pub use report::{report_all, report_setting, ReportPaths, SettingReport};
