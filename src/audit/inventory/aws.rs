//! AWS: Secrets Manager (`list-secrets`, `describe-secret`), IAM `list-access-keys`
//! (optionally with `get-access-key-last-used` merged in) and the IAM credential report.

use base64::Engine;
use serde_json::Value;

use super::{apply_tags, date, s, value_fingerprint};
use crate::audit::model::{Item, Kind, KmsKey, Loc, Usage, ValueSighting};
use crate::audit::time::{self, DAY};

/// `arn:…:secret:NAME-AbCdEf` → `arn:…:secret:NAME` (CloudTrail may use either, or the name).
pub fn partial_arn(arn: &str) -> Option<&str> {
    let (head, _) = arn.rsplit_once('-')?;
    let suffix = &arn[head.len() + 1..];
    (suffix.len() == 6
        && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        && head.contains(":secret:"))
    .then_some(head)
}

/// `alias/aws/secretsmanager`, by alias name or alias ARN.
fn is_aws_managed_key(k: &str) -> bool {
    k == "alias/aws/secretsmanager" || k.ends_with(":alias/aws/secretsmanager")
}

/// Secret name from an ARN.
pub fn arn_name(arn: &str) -> Option<&str> {
    let base = partial_arn(arn).unwrap_or(arn);
    base.split_once(":secret:").map(|(_, n)| n)
}

/// One Secrets Manager entry (list-secrets element or describe-secret output).
pub fn secret(v: &Value, loc: Loc) -> Result<Item, String> {
    let arn = s(v, "ARN");
    let name = s(v, "Name");
    let id = match (arn, name) {
        (Some(a), _) => a.to_string(),
        (None, Some(n)) => n.to_string(),
        _ => return Err("Secrets Manager entry without ARN or Name".into()),
    };
    let mut it = Item::new(id.clone(), Kind::AwsSecret, loc.clone());
    it.name = name
        .map(str::to_string)
        .or_else(|| arn.and_then(arn_name).map(str::to_string))
        .unwrap_or_default();
    it.aliases.push(id.clone());
    if !it.name.is_empty() {
        it.aliases.push(it.name.clone());
    }
    if let Some(p) = arn.and_then(partial_arn) {
        it.aliases.push(p.to_string());
    }
    it.description = s(v, "Description").map(str::to_string);
    it.owning_service = s(v, "OwningService").map(str::to_string);
    // get-secret-value / batch-get-secret-value describe one version: their CreatedDate is
    // that version's creation, not the secret's (a rotated secret's is the rotation date).
    let version_output = ["VersionId", "VersionStages", "SecretString", "SecretBinary"]
        .iter()
        .any(|k| v.get(*k).is_some());
    let listing_keys = ["SecretVersionsToStages", "VersionIdsToStages"];
    if version_output && !listing_keys.iter().any(|k| v.get(*k).is_some()) {
        it.version_created = date(v, "CreatedDate");
    } else {
        it.created = date(v, "CreatedDate");
    }
    it.has_previous_version = listing_keys.iter().any(|k| {
        v.get(*k).and_then(Value::as_object).is_some_and(|m| {
            m.values().any(|stages| {
                stages
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("AWSPREVIOUS")))
            })
        })
    });
    it.last_rotated = date(v, "LastRotatedDate");
    if it.last_rotated.is_some() {
        it.rotated_source = Some("LastRotatedDate".into());
    }
    let listing = [
        "SecretVersionsToStages",
        "VersionIdsToStages",
        "LastChangedDate",
        "RotationEnabled",
    ]
    .iter()
    .any(|k| v.get(*k).is_some());
    it.usage = match date(v, "LastAccessedDate") {
        Some(t) => Usage::At(t),
        // "omitted if the secret has never been retrieved"
        None if listing => Usage::Never,
        None => Usage::Untracked,
    };
    it.deleted = date(v, "DeletedDate");
    it.next_rotation = date(v, "NextRotationDate");
    // A listing or description leaves `KmsKeyId` out when the AWS-managed key encrypts
    // the secret; get-secret-value output never says.
    if !version_output || listing_keys.iter().any(|k| v.get(*k).is_some()) {
        // The same goes for tags: a listing leaves `Tags` out when there are none.
        it.tags_known = true;
        it.kms_key = Some(match s(v, "KmsKeyId") {
            Some(k) if !is_aws_managed_key(k) => KmsKey::Customer(k.to_string()),
            _ => KmsKey::ProviderManaged,
        });
    }
    // get-secret-value output says nothing about rotation: leave it unknown so that a
    // listing of the same secret decides.
    if listing || v.get("RotationEnabled").is_some() {
        it.rotation_supported = true;
        it.rotation_enabled = Some(
            v.get("RotationEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        );
    }
    if let Some(r) = v.get("RotationRules") {
        it.rotation_interval_days = r
            .get("AutomaticallyAfterDays")
            .and_then(Value::as_f64)
            .or_else(|| s(r, "ScheduleExpression").and_then(schedule_days));
    }
    let mut tags = std::collections::BTreeMap::new();
    if let Some(Value::Array(list)) = v.get("Tags") {
        for t in list {
            if let (Some(k), Some(val)) = (
                t.get("Key").and_then(Value::as_str),
                t.get("Value").and_then(Value::as_str),
            ) {
                tags.insert(k.to_string(), val.to_string());
            }
        }
    }
    apply_tags(&mut it, tags);
    // get-secret-value / batch output: note the value, keep only its fingerprint.
    if let Some(Value::String(sv)) = v.get("SecretString") {
        it.values_seen.push(ValueSighting {
            field: "SecretString".into(),
            fingerprint: value_fingerprint(sv.as_bytes()),
            note: None,
            loc: loc.clone(),
        });
    }
    if let Some(sb) = v.get("SecretBinary") {
        let fp = sb
            .as_str()
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|b| value_fingerprint(&b));
        it.values_seen.push(ValueSighting {
            field: "SecretBinary".into(),
            fingerprint: fp,
            note: None,
            loc,
        });
    }
    Ok(it)
}

/// Longest gap of a `rate(…)` or `cron(…)` rotation schedule, in days (approximate for cron).
pub fn schedule_days(expr: &str) -> Option<f64> {
    let e = expr.trim();
    if let Some(inner) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = inner.split_whitespace();
        let n: f64 = parts.next()?.parse().ok()?;
        let unit = parts.next()?.trim_end_matches('s');
        return match unit {
            "day" => Some(n),
            "hour" => Some(n / 24.0),
            "minute" => Some(n / 1440.0),
            _ => None,
        };
    }
    let inner = e.strip_prefix("cron(")?.strip_suffix(')')?;
    let f: Vec<&str> = inner.split_whitespace().collect();
    if f.len() < 5 {
        return None;
    }
    let (dom, month, dow) = (f[2], f[3], f[4]);
    if month != "*" {
        let months: Vec<&str> = month.split(',').collect();
        if let Some((_, step)) = month.split_once('/') {
            return step.parse::<f64>().ok().map(|m| m * 31.0);
        }
        return Some(if months.len() <= 1 {
            365.0
        } else {
            365.0 / months.len() as f64
        });
    }
    if dow != "?" && dow != "*" {
        return Some(7.0);
    }
    if dom == "*" || dom == "?" {
        return Some(1.0);
    }
    if let Some((_, step)) = dom.split_once('/') {
        return step.parse().ok();
    }
    let mut days: Vec<i64> = dom.split(',').filter_map(|d| d.parse().ok()).collect();
    days.sort_unstable();
    if days.is_empty() {
        return Some(31.0);
    }
    let mut gap = 31 - days[days.len() - 1] + days[0];
    for w in days.windows(2) {
        gap = gap.max(w[1] - w[0]);
    }
    Some(gap as f64)
}

/// A `list-access-keys` document or one key entry (with `AccessKeyLastUsed` merged in).
pub fn access_keys(v: &Value, loc: Loc) -> Result<Vec<Item>, String> {
    if let Some(Value::Array(list)) = v.get("AccessKeyMetadata") {
        return list.iter().map(|k| access_key(k, loc.clone())).collect();
    }
    access_key(v, loc).map(|i| vec![i])
}

fn access_key(v: &Value, loc: Loc) -> Result<Item, String> {
    let key = s(v, "AccessKeyId").ok_or("access key entry without AccessKeyId")?;
    let mut it = Item::new(format!("aws-iam-key:{key}"), Kind::IamAccessKey, loc);
    it.key_id = Some(key.to_string());
    it.principal = s(v, "UserName").map(str::to_string);
    it.name = match &it.principal {
        Some(u) => format!("{u}/{key}"),
        None => key.to_string(),
    };
    it.enabled = s(v, "Status").is_none_or(|st| st.eq_ignore_ascii_case("active"));
    it.created = date(v, "CreateDate");
    let last_used = v.get("AccessKeyLastUsed").or_else(|| v.get("LastUsed"));
    it.usage = match last_used {
        Some(lu) if lu.is_object() => match date(lu, "LastUsedDate") {
            Some(t) => Usage::At(t),
            None => Usage::Never,
        },
        _ => match v.get("LastUsedDate") {
            Some(d) => time::parse_value(d).map_or(Usage::Never, Usage::At),
            None => Usage::Untracked,
        },
    };
    Ok(it)
}

/// `get-credential-report` JSON: base64 CSV in `Content`.
pub fn credential_report_json(v: &Value, loc: Loc) -> Result<Vec<Item>, String> {
    let content = s(v, "Content").ok_or("credential report JSON without Content")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.split_whitespace().collect::<String>())
        .map_err(|e| format!("credential report Content is not base64: {e}"))?;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    crate::audit::input::csv_records(bytes.as_slice(), &mut |row| match row {
        Ok((line, cols)) => match credential_row(
            &cols,
            Loc {
                file: loc.file.clone(),
                line: loc.line,
            },
        ) {
            Ok(mut v) => items.append(&mut v),
            Err(e) => errors.push(format!("report row {line}: {e}")),
        },
        Err((line, e)) => errors.push(format!("report row {line}: {e}")),
    });
    if items.is_empty() && !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(items)
}

/// One credential-report row: an item per access-key slot that holds a key.
pub fn credential_row(cols: &[(String, String)], loc: Loc) -> Result<Vec<Item>, String> {
    let get = |k: &str| {
        cols.iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let user = get("user").ok_or("credential report row without user")?;
    if get("access_key_1_active").is_none() && get("access_key_2_active").is_none() {
        return Err("not a credential report row (no access_key_N_active columns)".into());
    }
    let mut out = Vec::new();
    for n in 1u8..=2 {
        let active = get(&format!("access_key_{n}_active"))
            .and_then(super::parse_bool)
            .unwrap_or(false);
        let rotated = get(&format!("access_key_{n}_last_rotated")).and_then(time::parse_str);
        if !active && rotated.is_none() {
            continue;
        }
        let mut it = Item::new(
            format!("aws-iam-user:{user}/key{n}"),
            Kind::IamAccessKey,
            loc.clone(),
        );
        it.name = format!("{user} access key {n}");
        it.principal = Some(user.to_string());
        it.enabled = active;
        it.created = rotated;
        it.usage = match get(&format!("access_key_{n}_last_used_date")).and_then(time::parse_str) {
            Some(t) => Usage::At(t),
            None => Usage::Never,
        };
        it.cred_slot = Some((user.to_string(), n));
        out.push(it);
    }
    Ok(out)
}

/// Joins credential-report slots to `list-access-keys` entries of the same user created at
/// the same time (the report's `last_rotated` is the key's creation), so the key keeps its
/// `aws-iam-key:` id and gains the report's last-used date.
pub fn join_credential_slots(items: &mut Vec<Item>) {
    let mut absorbed = vec![false; items.len()];
    // Keys with an id, by user: keeps the join linear in the number of items.
    let mut by_user: std::collections::HashMap<String, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, k) in items.iter().enumerate() {
        if let (Some(u), true) = (
            &k.principal,
            k.kind == Kind::IamAccessKey && k.cred_slot.is_none() && k.key_id.is_some(),
        ) {
            by_user.entry(u.clone()).or_default().push(i);
        }
    }
    for i in 0..items.len() {
        if items[i].cred_slot.is_none() {
            continue;
        }
        let (Some(user), created) = (items[i].principal.clone(), items[i].created) else {
            continue;
        };
        let target = by_user.get(&user).into_iter().flatten().copied().find(|&t| {
            matches!((items[t].created, created), (Some(a), Some(b)) if (a - b).abs() <= 60 || (a.div_euclid(DAY) == b.div_euclid(DAY) && b % DAY == 0))
        });
        if let Some(t) = target {
            let slot = items[i].clone();
            let key = &mut items[t];
            key.usage = match (key.usage, slot.usage) {
                (Usage::At(a), Usage::At(b)) => Usage::At(a.max(b)),
                (Usage::Untracked, u) => u,
                (k, _) => k,
            };
            key.aliases.push(slot.id.clone());
            absorbed[i] = true;
        }
    }
    let mut idx = 0;
    items.retain(|_| {
        let keep = !absorbed[idx];
        idx += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(schedule_days("rate(10 days)"), Some(10.0));
        assert_eq!(schedule_days("cron(0 16 1,15 * ? *)"), Some(17.0));
        assert_eq!(schedule_days("cron(0 8 ? * MON *)"), Some(7.0));
        assert_eq!(
            partial_arn("arn:aws:secretsmanager:us-west-2:1:secret:My-Ca8JGt"),
            Some("arn:aws:secretsmanager:us-west-2:1:secret:My")
        );
        assert_eq!(
            arn_name("arn:aws:secretsmanager:us-west-2:1:secret:prod/db-Ca8JGt"),
            Some("prod/db")
        );
    }
}
