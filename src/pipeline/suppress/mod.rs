//! What keeps a finding out of the failing set: the baseline, the ignore file, and importing
//! other scanners' triage into a baseline. (Inline `keywarden:allow` and config allowlists are
//! applied where the pipeline builds findings.)

pub mod baseline;
pub mod ignore_file;
pub mod import;
