//! keywarden: a secret leak scanner and rotation-compliance auditor.
//!
//! Data flows one way: sources produce blobs with provenance, the engine matches rules over
//! bytes, the scanner turns matches into findings, and reports print them. The auditor is a
//! sibling that reuses fingerprints and reports.

pub mod audit;
pub mod cli;
pub mod config;
pub mod engine;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod source;
