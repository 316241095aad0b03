//! keywarden's own scan output (JSON document, JSON Lines or SARIF) as leak evidence.

use std::io::Read;

use serde_json::Value;

use super::input::{self, InputFormat, Parser, Record};
use super::inventory::{BadRecord, norm_fingerprint};
use super::logs::str_at;
use super::model::{Leak, Loc};
use super::time::{self, Secs};

/// Findings files are read whole (they are small next to logs); this bounds memory.
const MAX_FINDINGS_BYTES: u64 = 512 << 20;

/// Parses one findings input (read whole, up to 512 MiB) into leaks; bad records are
/// reported and skipped, a larger input is an error.
pub fn load<R: Read>(
    format: &'static InputFormat,
    reader: R,
    file: &str,
    leaks: &mut Vec<Leak>,
    bad: &mut Vec<BadRecord>,
) -> std::io::Result<input::Count> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FINDINGS_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FINDINGS_BYTES {
        // Refuse rather than audit a silent prefix.
        return Err(std::io::Error::other(format!(
            "findings file larger than {} MiB; split it",
            MAX_FINDINGS_BYTES >> 20
        )));
    }
    match format.parser {
        Parser::Findings(parse) => Ok(parse(&bytes, file, leaks, bad)),
        _ => Err(std::io::Error::other(format!(
            "{} is not a findings format",
            format.name
        ))),
    }
}

/// `scan --format sarif` output.
pub fn parse_sarif(
    bytes: &[u8],
    file: &str,
    leaks: &mut Vec<Leak>,
    bad: &mut Vec<BadRecord>,
) -> input::Count {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => input::Count {
            records: sarif(&v, bytes, file, leaks, bad),
            partial: false,
        },
        Err(e) => {
            bad.push(BadRecord {
                loc: Loc {
                    file: file.to_string(),
                    line: e.line(),
                },
                error: format!("invalid SARIF JSON: {e}"),
            });
            // A SARIF document that ends early is a truncated input, not a bad record.
            input::Count {
                records: 0,
                partial: e.is_eof(),
            }
        }
    }
}

/// `scan --format json` (one document) or `--format jsonl` output.
pub fn parse_json(
    bytes: &[u8],
    file: &str,
    leaks: &mut Vec<Leak>,
    bad: &mut Vec<BadRecord>,
) -> input::Count {
    let loc = |line| Loc {
        file: file.to_string(),
        line,
    };
    #[derive(serde::Deserialize)]
    struct Header {
        scan_time: Option<Value>,
    }
    let scan_time = serde_json::from_slice::<Header>(bytes)
        .ok()
        .and_then(|h| h.scan_time)
        .and_then(|t| time::parse_value(&t));
    let mut n = 0;
    let mut partial = false;
    let _ = input::json_records(bytes, &["findings"], &mut |rec| {
        if matches!(rec, Record::Truncated { .. }) {
            partial = true;
        } else {
            n += 1;
        }
        match rec {
            Record::Ok { value, line, .. } => match finding(&value, scan_time, loc(line)) {
                Ok(Some(l)) => leaks.push(l),
                Ok(None) => {}
                Err(error) => bad.push(BadRecord {
                    loc: loc(line),
                    error,
                }),
            },
            Record::Bad { line, error } | Record::Truncated { line, error } => {
                bad.push(BadRecord {
                    loc: loc(line),
                    error,
                })
            }
        }
    });
    input::Count {
        records: n,
        partial,
    }
}

/// One finding object. Leak time: the introducing commit's author date, else the scan time.
pub fn finding(v: &Value, scan_time: Option<Secs>, loc: Loc) -> Result<Option<Leak>, String> {
    if !v.is_object() {
        return Err("finding is not an object".into());
    }
    // The summary record of a JSONL stream, or the document header: not a finding.
    if v.get("rule_id").is_none() && v.get("fingerprint").is_none() {
        if v.get("summary").is_some() || v.get("schema").is_some() {
            return Ok(None);
        }
        return Err("finding without rule_id or fingerprint".into());
    }
    let fingerprint = str_at(v, &["fingerprint"]).and_then(norm_fingerprint);
    let key_id = str_at(v, &["key_id"]).map(str::to_string);
    if fingerprint.is_none() && key_id.is_none() {
        return Err("finding without fingerprint or key_id".into());
    }
    let commit = v.get("commit").filter(|c| c.is_object());
    let t = commit
        .and_then(|c| {
            c.get("author_date")
                .and_then(time::parse_value)
                .or_else(|| c.get("committer_date").and_then(time::parse_value))
        })
        .or_else(|| v.get("scan_time").and_then(time::parse_value))
        .or(scan_time);
    Ok(Some(Leak {
        fingerprint,
        key_id,
        time: t,
        rule_id: str_at(v, &["rule_id"]).unwrap_or("").to_string(),
        rule_name: str_at(v, &["rule_name"]).unwrap_or("").to_string(),
        path: str_at(v, &["path"]).unwrap_or("").to_string(),
        line: v.get("line").and_then(Value::as_u64).unwrap_or(0),
        commit: commit.and_then(|c| str_at(c, &["id"])).map(str::to_string),
        loc,
    }))
}

fn line_of(bytes: &[u8], needle: &str) -> usize {
    memchr::memmem::find(bytes, needle.as_bytes()).map_or(1, |i| {
        bytes[..i].iter().filter(|b| **b == b'\n').count() + 1
    })
}

fn sarif(
    v: &Value,
    bytes: &[u8],
    file: &str,
    leaks: &mut Vec<Leak>,
    bad: &mut Vec<BadRecord>,
) -> usize {
    let mut n = 0;
    let Some(runs) = v.get("runs").and_then(Value::as_array) else {
        bad.push(BadRecord {
            loc: Loc {
                file: file.to_string(),
                line: 1,
            },
            error: "SARIF without runs".into(),
        });
        return 0;
    };
    for run in runs {
        let scan_time = run
            .pointer("/invocations/0/startTimeUtc")
            .and_then(time::parse_value);
        let rule_names: std::collections::HashMap<&str, &str> = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let id = str_at(r, &["id"])?;
                let name =
                    str_at(r, &["shortDescription", "text"]).or_else(|| str_at(r, &["name"]))?;
                Some((id, name))
            })
            .collect();
        for r in run
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            n += 1;
            let props = r.get("properties").cloned().unwrap_or(Value::Null);
            let fp = str_at(&props, &["fingerprint"]);
            let line = fp.map_or(1, |f| line_of(bytes, f));
            let loc = Loc {
                file: file.to_string(),
                line,
            };
            let fingerprint = fp.and_then(norm_fingerprint);
            let key_id = str_at(&props, &["key_id"]).map(str::to_string);
            if fingerprint.is_none() && key_id.is_none() {
                bad.push(BadRecord {
                    loc,
                    error: "SARIF result without properties.fingerprint or key_id".into(),
                });
                continue;
            }
            let commit = match props.get("commit") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(c @ Value::Object(_)) => str_at(c, &["id"]).map(str::to_string),
                _ => None,
            };
            let date = props.get("date").and_then(time::parse_value).or_else(|| {
                props
                    .pointer("/commit/author_date")
                    .and_then(time::parse_value)
            });
            let phys = r.pointer("/locations/0/physicalLocation");
            let rule_id = str_at(r, &["ruleId"]).unwrap_or("");
            leaks.push(Leak {
                fingerprint,
                key_id,
                time: date.or(scan_time),
                rule_id: rule_id.to_string(),
                rule_name: rule_names.get(rule_id).copied().unwrap_or("").to_string(),
                path: phys
                    .and_then(|p| str_at(p, &["artifactLocation", "uri"]))
                    .unwrap_or("")
                    .to_string(),
                line: phys
                    .and_then(|p| p.pointer("/region/startLine"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                commit,
                loc,
            });
        }
    }
    n
}

/// Lines apart an AWS secret access key may sit from its access key id and still be read as
/// its pair (`aws_access_key_id` then `aws_secret_access_key`, one or two lines apart in
/// credentials files, env files and CI variables).
const PAIR_LINES: u64 = 3;

fn is_secret_key(l: &Leak) -> bool {
    l.rule_id == "aws-secret-access-key"
        || l.rule_name.eq_ignore_ascii_case("AWS secret access key")
}

/// An AWS secret access key found next to an access key id in the same file (and commit) is
/// that key's secret half: it gets the key id, so the pair is one leaked credential joined to
/// one IAM key, not a second credential that matches nothing.
pub fn pair_aws_keys(leaks: &mut [Leak]) {
    let ids: Vec<(usize, String)> = leaks
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let k = l.key_id.as_deref()?;
            ((k.starts_with("AKIA") || k.starts_with("ASIA")) && !is_secret_key(l))
                .then(|| (i, k.to_string()))
        })
        .collect();
    if ids.is_empty() {
        return;
    }
    // (path, commit) → (line, key id) of the key ids found there.
    type Place = (String, Option<String>);
    let mut by_place: std::collections::HashMap<Place, Vec<(u64, String)>> =
        std::collections::HashMap::new();
    for (i, k) in ids {
        let l = &leaks[i];
        by_place
            .entry((l.path.clone(), l.commit.clone()))
            .or_default()
            .push((l.line, k));
    }
    for l in leaks.iter_mut() {
        if l.key_id.is_some() || !is_secret_key(l) {
            continue;
        }
        let Some(cands) = by_place.get(&(l.path.clone(), l.commit.clone())) else {
            continue;
        };
        // The nearest key id; on a tie the one above (the usual order in credentials files).
        let best = cands
            .iter()
            .filter(|(line, _)| line.abs_diff(l.line) <= PAIR_LINES)
            .min_by_key(|(line, _)| (line.abs_diff(l.line), *line > l.line));
        if let Some((_, k)) = best {
            l.key_id = Some(k.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(rule: &str, key: Option<&str>, path: &str, line: u64) -> Leak {
        Leak {
            fingerprint: Some(format!("kw1:{rule}{line}")),
            key_id: key.map(str::to_string),
            time: None,
            rule_id: rule.into(),
            rule_name: String::new(),
            path: path.into(),
            line,
            commit: None,
            loc: Loc::default(),
        }
    }

    #[test]
    fn secret_key_next_to_its_key_id_is_one_pair() {
        let mut v = vec![
            leak(
                "aws-access-key-id",
                Some("AKIAAAAAAAAAAAAAAAAA"),
                "a/.env",
                1,
            ),
            leak("aws-secret-access-key", None, "a/.env", 2),
            leak("aws-secret-access-key", None, "b/.env", 2),
            leak("aws-secret-access-key", None, "a/.env", 9),
        ];
        pair_aws_keys(&mut v);
        assert_eq!(v[1].key_id.as_deref(), Some("AKIAAAAAAAAAAAAAAAAA"));
        assert_eq!(v[2].key_id, None);
        assert_eq!(v[3].key_id, None);
    }
}
