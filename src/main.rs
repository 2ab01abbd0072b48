//! The `awsso` binary: everything lives in the library; see `awsso::main`.
fn main() -> std::process::ExitCode {
    awsso::main()
}
