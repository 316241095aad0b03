//! keywarden: a secret leak scanner and rotation-compliance auditor.

pub mod audit;
pub mod fingerprint;
