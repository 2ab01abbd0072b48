//! The command line: every clap type lives here, and their doc comments are the help text.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::{ArgValueCandidates, ArgValueCompleter};

use crate::ids::{AccountId, Parser as Checked, Region, RoleName, SessionName, StartUrl};
use crate::sso::Flow;
use crate::store::StoreKind;

/// Defined with the shell code it chooses, so that `shell` needs nothing from the command line.
pub use crate::shell::ShellKind;

/// A fast credential helper for AWS IAM Identity Center (AWS SSO).
///
/// awsso logs you in once per Identity Center session (device code or browser PKCE), keeps the tokens in
/// the OS keyring, and hands role credentials to the AWS CLI, SDKs and Terraform.
#[derive(Debug, Parser)]
#[command(
    name = "awsso",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 ok, 1 error, 2 usage, 3 login required, 4 credential store \
unavailable, 5 invalid AWS config, 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Log more on stderr (-v: debug, -vv: trace); RUST_LOG overrides. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Where secrets are kept.
    #[arg(long, global = true, env = crate::vars::STORE, value_enum, default_value_t = StoreKind::Auto)]
    pub store: StoreKind,

    /// The AWS config file [default: $AWS_CONFIG_FILE, else ~/.aws/config].
    #[arg(long, global = true, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to an Identity Center session (creating its [sso-session] section when needed).
    Login(LoginArgs),
    /// Show each session's login state: expiry, refreshability, the store in use.
    Status(StatusArgs),
    /// Log out: end the session at Identity Center and delete its secrets from the store.
    Logout(LogoutArgs),
    /// List every account and role you can use, with the profile name awsso gives each.
    Ls(LsArgs),
    /// Write one AWS CLI profile per account × role into the AWS config, in a block awsso owns.
    Sync(SyncArgs),
    /// Print (or write) the configuration of a browser extension that colours the AWS console, with the
    /// same colours, names and filters as the profiles `awsso sync` writes.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Print role credentials as credential_process JSON (what awsso profiles run); nothing else on stdout.
    Creds(CredsArgs),
    /// Run a command with a role's credentials in its environment.
    Exec(ExecArgs),
    /// Print shell code that exports a role's credentials, for `eval "$(awsso env --profile P)"`.
    Env(EnvArgs),
    /// Serve roles' credentials over the container-credentials protocol on 127.0.0.1, for containers and
    /// other shells; prints, per profile, the two variables a client sets.
    #[command(
        after_help = "Each profile gets its own path and token. Only loopback unless --bind names another \
address and --i-know-this-exposes-credentials is given. Runs until interrupted."
    )]
    Serve(ServeArgs),
    /// Print a short prompt segment: the profile this shell uses and the time its credentials have left,
    /// in the profile's colour (none with NO_COLOR), with a warning mark under 10 minutes. Prints nothing
    /// when no profile is active. Reads only the environment, the config and the kernel-keyring cache.
    Prompt(PromptArgs),
    /// Open the AWS console as a role: the access portal's link, or a federated sign-in with --federated.
    Console(ConsoleArgs),
    /// Check the setup (config, store, sessions, clock, profiles, environment) and say how to fix problems.
    #[command(
        after_help = "Exit status: 0 when no check failed (warnings allowed), 1 when at least one failed."
    )]
    Doctor(DoctorArgs),
    /// Move legacy SSO profiles (sso_start_url in the profile) to an [sso-session] that can refresh its
    /// token: `sso_start_url` becomes `sso_session = NAME`, `sso_region` goes, and one [sso-session] is
    /// added per Identity Center instance. Nothing else in the file changes.
    Migrate(MigrateArgs),
    /// Switch this shell to a profile: prints code that sets AWS_PROFILE, for the `awsso` shell function
    /// of `awsso shell-init` to eval.
    ///
    /// Also unsets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (every SDK reads them
    /// before any profile, so the switch would do nothing), AWS_DEFAULT_PROFILE and AWSSO_PROFILE, and,
    /// after `awsso env`, the AWS_REGION and AWS_DEFAULT_REGION it exported.
    Use(UseArgs),
    /// Print the shell function that makes `awsso use PROFILE` switch the current shell, with completion.
    ///
    /// bash: add `eval "$(awsso shell-init bash)"` to ~/.bashrc. zsh: add `eval "$(awsso shell-init zsh)"`
    /// to ~/.zshrc, after compinit. fish: add `awsso shell-init fish | source` to
    /// ~/.config/fish/config.fish. The function is named `awsso`: `awsso use …` changes the shell, every
    /// other command runs the binary.
    ShellInit(ShellInitArgs),
    /// Print the shell completion script (profiles, sessions, accounts and roles complete from the config
    /// and the cached account listing, without the network).
    ///
    /// bash: `awsso completions bash > ~/.local/share/bash-completion/completions/awsso`. zsh:
    /// `awsso completions zsh > ~/.zfunc/_awsso` with ~/.zfunc in $fpath before compinit. fish:
    /// `awsso completions fish > ~/.config/fish/completions/awsso.fish`. `awsso shell-init` includes
    /// completion already. The scripts call `awsso` from PATH.
    Completions(CompletionsArgs),
    /// Write the completion scripts and man pages into DIR/completions and DIR/man (for packaging and for
    /// the files committed in the repository).
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
}

/// Which role: a profile, or a session, account and role.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// A profile of the AWS config (written by `awsso sync`, or a native SSO profile).
    #[arg(
        long,
        short = 'p',
        conflicts_with_all = ["session", "account_id", "role_name"],
        add = ArgValueCandidates::new(crate::complete::profiles)
    )]
    pub profile: Option<String>,

    /// The sso-session (with --account-id and --role-name).
    #[arg(
        long,
        short = 's',
        requires_all = ["account_id", "role_name"],
        value_parser = Checked::<SessionName>::new(),
        add = ArgValueCandidates::new(crate::complete::sessions)
    )]
    pub session: Option<SessionName>,

    /// The 12-digit account id.
    #[arg(
        long,
        requires_all = ["session", "role_name"],
        value_parser = Checked::<AccountId>::new(),
        add = ArgValueCompleter::new(crate::complete::account_ids)
    )]
    pub account_id: Option<AccountId>,

    /// The role (permission set) name.
    #[arg(
        long,
        requires_all = ["session", "account_id"],
        value_parser = Checked::<RoleName>::new(),
        add = ArgValueCandidates::new(crate::complete::role_names)
    )]
    pub role_name: Option<RoleName>,
}

#[derive(Debug, Args)]
pub struct CredsArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// When no valid SSO token is left, start the login flow (device code, on stderr) instead of failing.
    #[arg(long)]
    pub auto_login: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The region to export [default: the profile's region, else the session's].
    #[arg(long, value_parser = Checked::<Region>::new())]
    pub region: Option<Region>,

    /// Run even inside another `awsso exec` (AWSSO_PROFILE is set).
    #[arg(long)]
    pub force: bool,

    /// Instead of static keys, give the command a credentials endpoint on 127.0.0.1
    /// (AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN) that awsso serves while
    /// the command runs, with fresh credentials before they expire: for jobs that outlive the role
    /// credentials. Signals are forwarded and the exit status is the command's.
    #[arg(long)]
    pub server: bool,

    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The region to export [default: the profile's region, else the session's].
    #[arg(long, value_parser = Checked::<Region>::new())]
    pub region: Option<Region>,

    /// The shell to print for [default: from $SHELL, else bash].
    #[arg(long, value_enum)]
    pub shell: Option<ShellKind>,

    /// `shell`: code for eval; `dotenv`: NAME=value lines for `docker run --env-file` (values literal,
    /// nothing unset); `json`: one object of names to values.
    #[arg(long, value_enum, default_value_t = EnvFormat::Shell)]
    pub format: EnvFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvFormat {
    Shell,
    Dotenv,
    Json,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// How to mark the colour codes: `bash` for PS1, `zsh` for PROMPT (prompt_subst), `plain` for fish,
    /// starship and the rest.
    #[arg(long, value_enum, default_value_t = crate::prompt::PromptShell::Plain)]
    pub shell: crate::prompt::PromptShell,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A profile to serve; repeat for several [default: every SSO profile of the config].
    #[arg(
        long = "profile",
        short = 'p',
        value_name = "PROFILE",
        add = ArgValueCandidates::new(crate::complete::profiles)
    )]
    pub profiles: Vec<String>,

    /// The port [default: a free one].
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// The address to listen on. Anything but loopback needs --i-know-this-exposes-credentials; the SDKs
    /// accept a plain-http full URI only for loopback hosts.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,

    /// Allow --bind on an address other hosts can reach (each profile's token is still required).
    #[arg(long)]
    pub i_know_this_exposes_credentials: bool,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Where to land: a full https:// console URL, or a service (console, s3, ec2, logs, cloudwatch, iam,
    /// lambda, rds, dynamodb, cloudformation, sso, vpc, ecs, ecr, eks, sqs, sns, kms, secretsmanager, ssm,
    /// cloudtrail, athena, route53, billing, organizations) opened in the region.
    #[arg(long, short = 'd', value_name = "URL|SERVICE")]
    pub destination: Option<String>,

    /// The region for a service destination [default: the profile's region, else the session's].
    #[arg(long)]
    pub region: Option<String>,

    /// Print the URL on stdout instead of opening a browser. With --federated the URL holds a sign-in
    /// token: for about 15 minutes, whoever opens it is signed in as the role.
    #[arg(long)]
    pub print: bool,

    /// Sign in with the role's credentials through the federation endpoint (getSigninToken) instead of
    /// the access portal's link; needs a valid login.
    #[arg(long)]
    pub federated: bool,

    /// Open the console in this Chrome, Chromium or Edge profile (`--profile-directory`), so that
    /// accounts signed in to different profiles stay signed in at once. NAME is the last part of "Profile
    /// Path" in chrome://version, e.g. `Default` or `Profile 1`. The browser is --browser, else the first
    /// of google-chrome, google-chrome-stable, chromium, chromium-browser, microsoft-edge on PATH.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["print", "container"])]
    pub browser_profile: Option<String>,

    /// Open the console in a Firefox container named after the account and role (e.g. `Prod
    /// Payments/ReadOnlyAccess`) and coloured like the profile, through an `ext+container:` link. Needs
    /// the "Open external links in a container" add-on, and Firefox as the default browser (or
    /// BROWSER=firefox, or --browser firefox). With --print, prints that link.
    #[arg(long)]
    pub container: bool,

    /// The container's name instead of ACCOUNT/ROLE (with --container).
    #[arg(long, value_name = "NAME", requires = "container")]
    pub container_name: Option<String>,

    /// The browser program to run with the URL as its last argument (no shell) [default: the desktop's
    /// default browser, or $BROWSER].
    #[arg(long, value_name = "PATH", env = crate::vars::BROWSER, value_hint = clap::ValueHint::ExecutablePath)]
    pub browser: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Print the change as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON for scripts: a list of {check, status, message, fix}.
    #[arg(long)]
    pub json: bool,

    /// Also list the Identity Center instances (sso-admin ListInstances) and spot a member account that
    /// holds an account instance next to the organization instance. Needs admin credentials: the
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables, or --admin-profile.
    #[arg(long)]
    pub instances: bool,

    /// A region to list instances in; repeat for several [default: the sessions' regions].
    #[arg(long = "region", value_name = "REGION", requires = "instances")]
    pub regions: Vec<String>,

    /// The profile whose role credentials call ListInstances, instead of the environment's keys.
    #[arg(long, value_name = "PROFILE", requires = "instances")]
    pub admin_profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The sso-session to log in to [default: the only one in the config].
    #[arg(
        long,
        short = 's',
        value_parser = Checked::<SessionName>::new(),
        add = ArgValueCandidates::new(crate::complete::sessions)
    )]
    pub session: Option<SessionName>,

    /// Log in to the Identity Center instance of this SSO profile, including a legacy one
    /// (`sso_start_url` in the profile, no sso-session), as `aws sso login --profile` does.
    #[arg(long, conflicts_with_all = ["session", "start_url"])]
    pub profile: Option<String>,

    /// The AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start; with --region, creates the
    /// [sso-session] section when it is missing.
    #[arg(long, value_name = "URL", requires = "region", value_parser = Checked::<StartUrl>::new())]
    pub start_url: Option<StartUrl>,

    /// The Identity Center region (sso_region), e.g. us-east-1.
    #[arg(long, requires = "start_url", value_parser = Checked::<Region>::new())]
    pub region: Option<Region>,

    /// The sign-in flow: `device` shows a code to confirm in any browser (works over SSH); `pkce` sends the
    /// browser on this machine back to a loopback listener.
    #[arg(long, value_enum, default_value_t = Flow::Device)]
    pub flow: Flow,

    /// Do not open a browser; print the URL only.
    #[arg(long)]
    pub no_browser: bool,

    /// Sign in again even when the stored token is still valid or refreshable.
    #[arg(long, short = 'f')]
    pub force: bool,

    /// Also write the token, in plaintext (mode 0600), to the AWS CLI's cache (~/.aws/sso/cache) so that
    /// native SSO profiles and every SDK can use it; removed by `awsso logout`. The copy has no refresh
    /// token, and the SDKs refuse a token they cannot refresh some minutes before it expires (botocore 15,
    /// the JavaScript SDK 5): every awsso run that needs the session refreshes and rewrites the copy once
    /// less than 20 minutes are left, so it works as long as awsso runs now and then (e.g. as the
    /// credential_process of another profile) and the session can be refreshed.
    #[arg(long)]
    pub export_cli_cache: bool,

    /// How long the PKCE flow waits for the browser, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this session [default: every sso-session in the config].
    #[arg(
        long,
        short = 's',
        value_parser = Checked::<SessionName>::new(),
        add = ArgValueCandidates::new(crate::complete::sessions)
    )]
    pub session: Option<SessionName>,

    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The session to log out of [default: the only one in the config].
    #[arg(
        long,
        short = 's',
        conflicts_with = "all",
        value_parser = Checked::<SessionName>::new(),
        add = ArgValueCandidates::new(crate::complete::sessions)
    )]
    pub session: Option<SessionName>,

    /// Log out of every sso-session in the config.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only this session [default: every sso-session in the config].
    #[arg(
        long,
        short = 's',
        value_parser = Checked::<SessionName>::new(),
        add = ArgValueCandidates::new(crate::complete::sessions)
    )]
    pub session: Option<SessionName>,

    /// Print JSON for scripts (the default output is a table on a terminal, tab-separated lines otherwise).
    #[arg(long)]
    pub json: bool,

    /// Scan the portal again instead of using the cached listing (AWSSO_LISTING_TTL, default 3600 s).
    #[arg(long)]
    pub refresh: bool,

    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The AWS Peacock Management Console extension's configuration (JSON, which it reads as YAML too):
    /// one entry per colour with its account ids and the navigation and menu-button colours.
    Peacock(ExportArgs),
    /// The AWS Extend Switch Roles extension's configuration: one [profile] per account × role with
    /// aws_account_id, role_name, color and region.
    Aesr(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this session [default: every sso-session in the config].
    #[arg(long, short = 's', add = ArgValueCandidates::new(crate::complete::sessions))]
    pub session: Option<String>,

    /// Write to FILE (replaced atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// Scan the portal again instead of using the cached listing.
    #[arg(long)]
    pub refresh: bool,

    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Which account × role pairs `sync` writes (`ls` lists them all and marks the others).
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Only pairs a glob matches, case-insensitively, against the account name, account id, role name,
    /// NAME/ROLE or ID/ROLE (repeatable; replaces the settings file's `include`).
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,

    /// Leave out pairs a glob matches, the same way; wins over --include (repeatable; replaces the
    /// settings file's `exclude`).
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this session [default: every sso-session in the config].
    #[arg(
        long,
        short = 's',
        value_parser = Checked::<SessionName>::new(),
        add = ArgValueCandidates::new(crate::complete::sessions)
    )]
    pub session: Option<SessionName>,

    /// Print the change as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Remove profiles whose account or role is no longer assigned to you (they are kept otherwise).
    #[arg(long)]
    pub prune: bool,

    /// Profile name template over {account_name}, {account_id}, {role_name} and {session}
    /// [default: the settings file's, else {account_name}/{role_name}].
    #[arg(long, value_name = "T")]
    pub template: Option<String>,

    /// `process`: profiles run `awsso creds` (credential_process); `native`: sso_session/sso_account_id/
    /// sso_role_name keys for tools that read the AWS CLI's SSO token cache themselves.
    #[arg(long, value_enum, default_value_t = crate::profiles::Mode::Process)]
    pub mode: crate::profiles::Mode,

    /// Scan the portal again instead of using the cached listing.
    #[arg(long)]
    pub refresh: bool,

    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Args)]
pub struct UseArgs {
    /// The profile to switch to: a profile of the AWS config [default: pick one, on a terminal].
    #[arg(
        value_name = "PROFILE",
        conflicts_with_all = ["unset", "profile_flag"],
        add = ArgValueCandidates::new(crate::complete::profiles)
    )]
    pub profile: Option<String>,

    /// The same as PROFILE, for symmetry with the other commands.
    #[arg(
        long = "profile",
        short = 'p',
        value_name = "PROFILE",
        conflicts_with = "unset",
        add = ArgValueCandidates::new(crate::complete::profiles)
    )]
    pub profile_flag: Option<String>,

    /// Unset AWS_PROFILE (and AWS_DEFAULT_PROFILE) instead.
    #[arg(long)]
    pub unset: bool,

    /// The shell to print for [default: from $SHELL, else bash].
    #[arg(long, value_enum)]
    pub shell: Option<ShellKind>,
}

#[derive(Debug, Args)]
pub struct ShellInitArgs {
    #[arg(value_enum)]
    pub shell: InitShell,
}

/// The shells `awsso shell-init` writes a function for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InitShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: crate::complete::CompletionShell,
}

#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// The directory that receives completions/ and man/ (the repository root to update the committed
    /// files).
    #[arg(value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,
}
