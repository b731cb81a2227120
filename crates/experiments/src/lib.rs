//! The `experiments` binary's library: spec parsing, data and model set-up, training
//! runs with run directories keyed by the resolved spec, and their summaries.

pub mod atomic;
pub mod bench;
pub mod data;
pub mod host;
pub mod inspect;
pub mod latency;
pub mod lock;
pub mod model_dir;
pub mod preflight;
pub mod prune;
pub mod resolve;
pub mod run;
pub mod run_key;
pub mod run_progress;
pub mod snapshot;
pub mod spec;
pub mod study;
pub mod summary;
pub mod table;

pub use resolve::model_config;
