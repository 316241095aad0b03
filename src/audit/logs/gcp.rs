//! GCP Cloud Audit Logs for Secret Manager (`gcloud logging read … --format=json`, JSONL).

use serde_json::Value;

use super::str_at;
use crate::audit::inventory::gcp::split_name;
use crate::audit::model::{AccessOutcome, Action, Event, Provider};
use crate::audit::time;

/// The event of one log entry; None for an entry about no secret (other services' calls,
/// Secret Manager calls that name none).
pub fn event(v: &Value) -> Result<Option<Event>, String> {
    let p = v
        .get("protoPayload")
        .filter(|p| p.is_object())
        .ok_or("log entry without protoPayload")?;
    // Some exports drop the entry's top-level `timestamp`; the request's own time is the
    // same instant for an audit entry.
    let t = v
        .get("timestamp")
        .and_then(time::parse_value)
        .or_else(|| {
            p.pointer("/requestMetadata/requestAttributes/time")
                .and_then(time::parse_value)
        })
        .ok_or("log entry without a valid timestamp or protoPayload.requestMetadata.requestAttributes.time")?;
    let method = str_at(p, &["methodName"]).unwrap_or("");
    let service = str_at(p, &["serviceName"]).unwrap_or("");
    if service != "secretmanager.googleapis.com" && !method.contains("SecretManagerService") {
        return Ok(None);
    }
    let short = method.rsplit('.').next().unwrap_or(method);
    let resource = str_at(p, &["resourceName"])
        .map(str::to_string)
        .or_else(|| {
            let parent = str_at(p, &["request", "parent"])?;
            let id = str_at(p, &["request", "secretId"])?;
            Some(format!("{parent}/secrets/{id}"))
        });
    let Some((base, _, _)) = resource.as_deref().and_then(split_name) else {
        return Ok(None);
    };
    let action = match short {
        "AccessSecretVersion" => Action::Read,
        "AddSecretVersion" => Action::Write,
        "CreateSecret" => Action::Create,
        "DeleteSecret" => Action::Delete,
        _ => Action::Other,
    };
    let code = p
        .pointer("/status/code")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let not_granted = p
        .get("authorizationInfo")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.get("granted").and_then(Value::as_bool) == Some(false))
        });
    let outcome = match code {
        7 | 16 => AccessOutcome::Denied,
        0 if not_granted => AccessOutcome::Denied,
        0 => AccessOutcome::Ok,
        _ => AccessOutcome::Failed,
    };
    let principal = str_at(p, &["authenticationInfo", "principalEmail"])
        .or_else(|| str_at(p, &["requestMetadata", "callerIp"]))
        .map(str::to_string);
    Ok(Some(Event {
        time: t,
        provider: Provider::Gcp,
        secret: Some(base),
        action,
        outcome,
        principal,
        key_id: None,
        name: short.to_string(),
        message: str_at(p, &["status", "message"]).map(str::to_string),
        filters: Vec::new(),
        source: str_at(p, &["requestMetadata", "callerIp"]).map(str::to_string),
        root: false,
        workload: None,
    }))
}
