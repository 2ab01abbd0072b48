//! `awsso completions SHELL`, `awsso shell-init SHELL`, and the hidden `awsso generate-assets DIR` that
//! writes the committed `completions/` scripts and `man/` pages (a test fails when they drift from what
//! the binary generates; regenerate with `cargo run -- generate-assets .`).
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{CompletionsArgs, GenerateAssetsArgs, InitShell, ShellInitArgs};
use crate::complete::{CompletionShell, script};

pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    print!("{}", script(args.shell));
    Ok(ExitCode::SUCCESS)
}

/// The `awsso` shell function: `awsso use …` evals what the binary prints; anything else, and any help
/// or version request (whose text must not be eval'd), goes to the binary untouched.
fn function(shell: InitShell) -> String {
    match shell {
        InitShell::Bash | InitShell::Zsh => {
            let name = if shell == InitShell::Bash {
                "bash"
            } else {
                "zsh"
            };
            format!(
                r#"# awsso shell integration ({name}): `awsso use PROFILE` sets AWS_PROFILE in this shell and
# `awsso use --unset` clears it; every other command runs the awsso binary. Also registers completion.
awsso() {{
    if [ "${{1-}}" = use ]; then
        local __awsso_arg __awsso_code
        for __awsso_arg in "$@"; do
            case $__awsso_arg in
                -h | --help | -V | --version) command awsso "$@"; return ;;
            esac
        done
        shift
        __awsso_code=$(command awsso use --shell {name} "$@") || return
        eval "$__awsso_code"
    else
        command awsso "$@"
    fi
}}
"#
            )
        }
        InitShell::Fish => r#"# awsso shell integration (fish): `awsso use PROFILE` sets AWS_PROFILE in this shell and
# `awsso use --unset` clears it; every other command runs the awsso binary. Also registers completion.
function awsso --description 'awsso; `awsso use PROFILE` sets AWS_PROFILE in this shell'
    if test "$argv[1]" = use
        and not contains -- -h $argv
        and not contains -- --help $argv
        and not contains -- -V $argv
        and not contains -- --version $argv
        set -l __awsso_code (command awsso use --shell fish $argv[2..-1])
        or return
        printf '%s\n' $__awsso_code | source
    else
        command awsso $argv
    end
end
"#
        .to_string(),
    }
}

/// The function plus the completion script: one line in the shell's rc file sets up both.
pub fn shell_init(shell: InitShell) -> String {
    let completion = match shell {
        InitShell::Bash => CompletionShell::Bash,
        InitShell::Zsh => CompletionShell::Zsh,
        InitShell::Fish => CompletionShell::Fish,
    };
    format!("{}\n{}", function(shell), script(completion))
}

pub fn run_shell_init(args: ShellInitArgs) -> anyhow::Result<ExitCode> {
    print!("{}", shell_init(args.shell));
    Ok(ExitCode::SUCCESS)
}

/// Every generated file, relative to the repository root: the completion scripts and one man page for
/// `awsso` and for each visible subcommand.
pub fn assets() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = CompletionShell::ALL
        .iter()
        .map(|s| {
            (
                Path::new("completions").join(format!("awsso.{}", s.extension())),
                script(*s).into_bytes(),
            )
        })
        .collect();
    let mut cmd = crate::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    fn pages(cmd: clap::Command, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            pages(sub, out);
        }
        // clap_mangen would name a subcommand page's source after the subcommand (`use 0.1.0`).
        let man = clap_mangen::Man::new(cmd).source(format!("awsso {}", env!("CARGO_PKG_VERSION")));
        let mut buf = Vec::new();
        man.render(&mut buf)
            .expect("rendering to a Vec cannot fail");
        out.push((Path::new("man").join(man.get_filename()), buf));
    }
    pages(cmd, &mut out);
    out.sort();
    out
}

pub fn run_generate_assets(args: GenerateAssetsArgs) -> anyhow::Result<ExitCode> {
    let assets = assets();
    // Pages of subcommands that no longer exist would otherwise linger.
    let man_dir = args.dir.join("man");
    for entry in std::fs::read_dir(&man_dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = Path::new("man").join(&name);
        if name.starts_with("awsso")
            && name.ends_with(".1")
            && !assets.iter().any(|(p, _)| *p == rel)
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            eprintln!("removed {}", rel.display());
        }
    }
    for (rel, bytes) in &assets {
        let path = args.dir.join(rel);
        let dir = path.parent().expect("assets sit in a directory");
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", rel.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
