use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "keywarden",
    version,
    about = "Secret leak scanner and rotation-compliance auditor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit secret inventories and audit logs against a rotation policy.
    Audit(keywarden::audit::AuditArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Audit(args) => keywarden::audit::run(&args).unwrap_or_else(|e| {
            eprintln!("keywarden: {e:#}");
            2
        }),
    };
    std::process::exit(code);
}
