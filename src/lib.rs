//! awsso: a credential helper for AWS IAM Identity Center.
//!
//! The binary in `main.rs` is a thin shell over this library so that tests reach every piece. Module map:
//! `cli` (clap types), `cmd` (one module per subcommand; nothing else imports it), `awsconfig` (the AWS
//! config file), `session` (sso-sessions and their tokens), `login` (device and PKCE flows), `sso` (the
//! Identity Center clients: OIDC, portal, admin), `store` (the OS keyring and its key type), `credcache`
//! (the kernel-keyring warm path of `creds`), `creds` (serving role credentials, target resolution),
//! `console` (console links), `signin` (federation sign-in), `doctor` (the checks of `awsso doctor`),
//! `migrate` (legacy profiles to an sso-session), `complete` (shell completion candidates), `server` (the
//! container-credentials endpoint), `child` (a supervised child process), `picker` (the interactive
//! profile finder), `prompt` (the shell-prompt segment), `envfile` (dotenv and JSON output of `env`),
//! `listing` (enumeration and its cache), `profiles` (the profile generator and awsso's settings file),
//! `secret`, `lock`, `paths`, `browser`, `output`, `text` (untrusted text made safe), `error` (exit codes
//! and hints), `hardening` (no core dumps), `ids` (validated identifiers), `shell` (quoting and splitting
//! per shell), `vars` (every `AWSSO_*` environment variable and its value).
pub mod awsconfig;
pub mod browser;
pub mod child;
pub mod cli;
pub mod cmd;
pub mod complete;
pub mod console;
pub mod credcache;
pub mod creds;
pub mod doctor;
pub mod envfile;
pub mod error;
pub mod hardening;
pub mod ids;
pub mod listing;
pub mod lock;
pub mod login;
pub mod migrate;
pub mod output;
pub mod paths;
pub mod picker;
pub mod profiles;
pub mod prompt;
pub mod secret;
pub mod server;
pub mod session;
pub mod shell;
pub mod signin;
pub mod sso;
pub mod store;
pub mod text;
pub mod vars;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    // Before any secret is read: a core dump of awsso would hold tokens (see `hardening`).
    hardening::forbid_core_dumps();
    restore_sigpipe();
    // First, before anything can print: a TAB in the shell runs awsso only to ask for candidates.
    answer_completion_request();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(error::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return error::report(&anyhow::Error::new(e).context("cannot start the async runtime"));
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(code) => code,
        Err(e) => error::report(&e),
    }
}

/// Answers a completion request and exits, when [`complete::ENV_VAR`] holds a shell name; returns
/// otherwise. Start-up's job rather than `complete`'s: the request needs the whole command line, whose
/// arguments name `complete`'s candidates, so `complete` cannot need `cli` back.
fn answer_completion_request() {
    clap_complete::CompleteEnv::with_factory(cli::Cli::command)
        .var(complete::ENV_VAR)
        .complete();
}

/// Logs go to stderr; `-v`/`-vv` or `RUST_LOG` choose how much. The HTTP stack is capped at debug whatever
/// is asked, because at trace it can dump request headers, which carry the bearer token.
fn init_logging(verbose: u8) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, filter_fn};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let base = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => v,
        _ => match verbose {
            0 => "warn".to_string(),
            1 => "warn,awsso=debug".to_string(),
            _ => "info,awsso=trace,aws_smithy_runtime=debug".to_string(),
        },
    };
    let wanted = EnvFilter::try_new(&base).unwrap_or_else(|_| EnvFilter::new("warn"));
    let ceiling = filter_fn(|meta| {
        const CAPPED: [&str; 4] = ["aws_smithy", "hyper", "rustls", "h2"];
        !CAPPED.iter().any(|t| meta.target().starts_with(t)) || LevelFilter::DEBUG >= *meta.level()
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(output::stderr_is_terminal())
        .with_filter(wanted.and(ceiling));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`awsso ls | head`) would panic; a command-line tool
/// should end quietly instead, as every Unix tool does.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
