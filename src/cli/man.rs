//! `keywarden man`: the roff man page, generated from the command-line definition, on stdout
//! (`keywarden man > keywarden.1`).

use clap::CommandFactory;

pub(crate) fn run(out: &mut dyn std::io::Write) -> anyhow::Result<i32> {
    clap_mangen::Man::new(super::Cli::command()).render(out)?;
    Ok(0)
}
