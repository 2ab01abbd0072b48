//! The one integration-test binary (as jj's `cli/tests/runner.rs`): each `tests/X.rs` is a module of it,
//! all sharing one harness, `tests/common/mod.rs`. One binary links awsso's library once instead of once
//! per file, and the harness has no per-binary dead code to excuse.
//!
//! `autotests = false` in Cargo.toml: a new `tests/X.rs` runs only once it is listed here, and
//! `scripts/test.sh` fails when one is not (its check step).

mod common;

mod completions;
mod config_awkward;
mod config_conformance;
mod config_writes;
mod console;
mod console_context;
mod coredump;
mod creds;
mod doctor;
mod env_formats;
mod exec_env;
mod exit_codes;
mod generator;
mod hostile;
mod login;
mod ls;
mod name_hint;
mod picker;
mod pkce;
mod prompt;
mod server;
mod store;
mod sync;
