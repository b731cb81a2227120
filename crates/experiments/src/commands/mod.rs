//! The subcommands, one module per group; `main.rs` dispatches to them.
pub mod bench;
pub mod inspect;
pub mod records;
pub mod run;
pub mod study;
pub mod validate;
