//! The `awsso-sim` program: runs the simulator on 127.0.0.1 for scripts and manual testing.
//! Prints `AWSSO_SIM_URL=http://127.0.0.1:PORT` as its only stdout line, logs requests to
//! stderr, and exits cleanly on SIGINT/SIGTERM.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use awsso_sim::{DeviceOutcome, SimConfig, StartOptions};
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Outcome {
    Approve,
    Deny,
    Expire,
}

/// Local simulator of the AWS IAM Identity Center SSO OIDC and SSO portal APIs.
#[derive(Debug, Parser)]
#[command(name = "awsso-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of accounts.
    #[arg(long)]
    accounts: Option<usize>,
    /// Roles per account.
    #[arg(long)]
    roles: Option<usize>,
    /// Latency added to every API call, in milliseconds.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// API calls per second before answering 429.
    #[arg(long)]
    rate_limit: Option<f64>,
    /// How the rate limit is enforced: token-bucket (burst = rate) or sliding-window (at most rate calls
    /// in any one-second window).
    #[arg(long, value_parser = ["token-bucket", "sliding-window"])]
    rate_limit_kind: Option<String>,
    /// Every Nth API call answers 500.
    #[arg(long)]
    error_every: Option<u64>,
    /// Access token lifetime in seconds.
    #[arg(long)]
    token_ttl: Option<u64>,
    /// Role credential lifetime in seconds.
    #[arg(long)]
    credentials_ttl: Option<u64>,
    /// Client registration lifetime in seconds.
    #[arg(long)]
    client_ttl: Option<u64>,
    /// Device code lifetime in seconds.
    #[arg(long)]
    device_code_ttl: Option<u64>,
    /// Never issue refresh tokens.
    #[arg(long)]
    no_refresh_tokens: bool,
    /// Auto-approve a device code after this many pending polls (0 = never).
    #[arg(long)]
    approve_after_polls: Option<u32>,
    /// What approving a device code (or a PKCE authorization) does.
    #[arg(long, value_enum)]
    device_outcome: Option<Outcome>,
    /// Device-flow poll interval in seconds (0 disables slow_down).
    #[arg(long)]
    interval: Option<u64>,
    /// Default page size for ListAccounts/ListAccountRoles.
    #[arg(long)]
    page_size: Option<usize>,
    /// Serve injection-prone account names first.
    #[arg(long)]
    hostile_names: bool,
    /// Seconds the server's clock is ahead of the machine's (negative: behind): shifts `Date` headers and
    /// the role credentials' expirations.
    #[arg(long, allow_hyphen_values = true)]
    clock_offset_secs: Option<i64>,
    /// Don't log requests to stderr.
    #[arg(long, short)]
    quiet: bool,
}

impl Args {
    fn config(&self) -> SimConfig {
        let d = SimConfig::default();
        let secs = Duration::from_secs;
        SimConfig {
            accounts: self.accounts.unwrap_or(d.accounts),
            roles_per_account: self.roles.unwrap_or(d.roles_per_account),
            latency: self.latency_ms.map_or(d.latency, Duration::from_millis),
            rate_limit: self.rate_limit.filter(|r| *r > 0.0).or(d.rate_limit),
            rate_limit_kind: self
                .rate_limit_kind
                .as_deref()
                .and_then(awsso_sim::RateLimitKind::parse)
                .unwrap_or(d.rate_limit_kind),
            error_every: self.error_every.filter(|n| *n > 0).or(d.error_every),
            token_ttl: self.token_ttl.map_or(d.token_ttl, secs),
            refresh_tokens: !self.no_refresh_tokens && d.refresh_tokens,
            credentials_ttl: self.credentials_ttl.map_or(d.credentials_ttl, secs),
            client_ttl: self.client_ttl.map_or(d.client_ttl, secs),
            device_code_ttl: self.device_code_ttl.map_or(d.device_code_ttl, secs),
            interval: self.interval.unwrap_or(d.interval),
            approve_after_polls: self.approve_after_polls.unwrap_or(d.approve_after_polls),
            device_outcome: match self.device_outcome {
                None => d.device_outcome,
                Some(Outcome::Approve) => DeviceOutcome::Approve,
                Some(Outcome::Deny) => DeviceOutcome::Deny,
                Some(Outcome::Expire) => DeviceOutcome::Expire,
            },
            hostile_names: self.hostile_names || d.hostile_names,
            page_size: self.page_size.unwrap_or(d.page_size),
            instances: d.instances,
            hostile: d.hostile,
            clock_offset_secs: self.clock_offset_secs.unwrap_or(d.clock_offset_secs),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let sim = match awsso_sim::start_with(
        args.config(),
        StartOptions {
            port: args.port,
            log_requests: !args.quiet,
        },
    ) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("awsso-sim: cannot start on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };

    let mut out = std::io::stdout().lock();
    if writeln!(out, "AWSSO_SIM_URL={}", sim.url())
        .and_then(|()| out.flush())
        .is_err()
    {
        // Whoever started us stopped listening; there is no one to serve.
        return ExitCode::FAILURE;
    }
    drop(out);

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("awsso-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(wait_for_signal());
    drop(sim);
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
