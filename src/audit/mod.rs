//! Rotation-compliance auditor (in progress).

#[derive(clap::Args, Debug, Clone)]
pub struct AuditArgs {}

pub fn run(_args: &AuditArgs) -> anyhow::Result<i32> {
    anyhow::bail!("the auditor is not available in this build")
}
