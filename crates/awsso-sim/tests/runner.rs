//! The simulator's one integration-test binary: each `tests/X.rs` is a module of it, sharing the raw HTTP
//! client in `tests/common/mod.rs`. `autotests = false` in Cargo.toml: a new `tests/X.rs` runs only once
//! it is listed here, and `scripts/test.sh` fails when one is not (its check step).

mod common;

mod neighbours;
mod oidc;
mod portal;
