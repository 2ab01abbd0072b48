//! awsso: a credential helper for AWS IAM Identity Center.
//!
//! The binary in `main.rs` is a thin shell over this library so that tests reach every piece.
pub mod awsconfig;
