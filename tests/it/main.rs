//! Integration tests, in one binary so the suite links once. Shared helpers live in
//! `common` (launching the binary, temporary trees), `common_audit`, `git_support` (repositories
//! built at test time) and `corpus` (the seeded labelled corpus generator) and `shapes` (credential-file and
//! configuration formats built from the same generator).

mod common;
mod common_audit;
mod corpus;
mod git_support;
mod shapes;

mod accuracy;
mod accuracy_formats;
mod audit_access;
mod audit_inventory;
mod audit_logs;
mod audit_machine;
mod audit_manager;
mod audit_patterns;
mod audit_policy_cli;
mod audit_previous;
mod audit_real_exports;
mod audit_regressions;
mod audit_reports;
mod audit_robustness;
mod baseline_cli;
mod docs;
mod encrypted;
mod fingerprint_compat;
mod formats;
mod gate;
mod git_history;
mod git_leaks;
mod git_staged;
mod org_scan;
mod rules_builtin;
mod sarif;
mod scan_cli;
