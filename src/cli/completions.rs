//! `keywarden completions SHELL`: the shell completion script, generated from the real
//! command-line definition so it never lists a flag that is gone.

use clap::CommandFactory;

/// The arguments of `keywarden completions`.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub(crate) fn run(a: &CompletionsArgs, out: &mut dyn std::io::Write) -> anyhow::Result<i32> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "keywarden", out);
    Ok(0)
}
