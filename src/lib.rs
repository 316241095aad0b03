//! keywarden: a secret leak scanner and rotation-compliance auditor.
//!
//! Data flows one way: sources produce blobs with provenance, the engine matches rules over
//! bytes, the scanner turns matches into findings, and reports print them. The auditor is a
//! sibling that reuses fingerprints and reports.

pub mod audit;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod decode;
pub mod engine;
pub mod entropy;
pub mod finding;
pub mod fingerprint;
pub mod hook;
pub mod ignorefile;
pub mod migrate;
pub mod normalize;
pub mod placeholder;
pub mod prefilter;
pub mod report;
pub mod rulecheck;
pub mod rules;
pub mod scan;
pub mod scanner;
pub mod screen;
pub mod source;
pub mod validate;
pub mod window;
