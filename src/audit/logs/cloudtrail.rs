//! AWS CloudTrail: `{"Records":[…]}` files, one event per line, `lookup-events` output
//! (`CloudTrailEvent` JSON strings) and EventBridge envelopes (`detail`).

use serde_json::Value;

use super::str_at;
use crate::audit::model::{AccessOutcome, Action, Event, Provider};
use crate::audit::time;

const SM: &str = "secretsmanager.amazonaws.com";

pub fn events(v: &Value) -> Result<Vec<Event>, String> {
    if let Some(Value::String(inner)) = v.get("CloudTrailEvent") {
        let rec: Value =
            serde_json::from_str(inner).map_err(|e| format!("CloudTrailEvent is not JSON: {e}"))?;
        return events(&rec);
    }
    if let Some(detail) = v.get("detail").filter(|d| d.is_object())
        && (v.get("detail-type").is_some() || v.get("source").is_some())
    {
        return events(detail);
    }
    if !v.is_object() {
        return Err("CloudTrail record is not an object".into());
    }
    let t = v
        .get("eventTime")
        .and_then(time::parse_value)
        .ok_or("CloudTrail record without a valid eventTime")?;
    let name = str_at(v, &["eventName"]).unwrap_or("").to_string();
    let key_id = str_at(v, &["userIdentity", "accessKeyId"]).map(str::to_string);
    let source = str_at(v, &["eventSource"]).unwrap_or("");
    let error = str_at(v, &["errorCode"]);
    let message = str_at(v, &["errorMessage"]).map(str::to_string);
    let outcome = match error {
        None => AccessOutcome::Ok,
        Some(e)
            if e.to_ascii_lowercase().starts_with("accessdenied")
                || e.to_ascii_lowercase().contains("unauthorized") =>
        {
            AccessOutcome::Denied
        }
        Some(_) => AccessOutcome::Failed,
    };
    let principal = str_at(v, &["userIdentity", "arn"])
        .or_else(|| str_at(v, &["userIdentity", "principalId"]))
        .or_else(|| str_at(v, &["userIdentity", "invokedBy"]))
        .map(str::to_string);
    let base = Event {
        time: t,
        provider: Provider::Aws,
        secret: None,
        action: Action::Other,
        outcome,
        principal,
        key_id,
        name: name.clone(),
        message: message.clone(),
    };
    if source != SM {
        return Ok(if base.key_id.is_some() {
            vec![base]
        } else {
            Vec::new()
        });
    }
    let action = match name.as_str() {
        "GetSecretValue" | "BatchGetSecretValue" => Action::Read,
        "PutSecretValue" => Action::Write,
        // UpdateSecret only creates a version (and says so) when it sets a new value.
        "UpdateSecret" if str_at(v, &["responseElements", "versionId"]).is_some() => Action::Write,
        "CreateSecret" => Action::Create,
        "DeleteSecret" => Action::Delete,
        "RestoreSecret" => Action::Restore,
        "RotationSucceeded" => Action::RotationSucceeded,
        "RotationFailed" | "RotationAbandoned" => Action::RotationFailed,
        _ => Action::Other,
    };
    let mut ids: Vec<String> = Vec::new();
    let rp = v.get("requestParameters");
    if let Some(id) = rp.and_then(|r| str_at(r, &["secretId"])) {
        ids.push(id.to_string());
    }
    if let Some(Value::Array(list)) = rp.and_then(|r| r.get("secretIdList")) {
        ids.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if ids.is_empty() {
        let found = str_at(v, &["additionalEventData", "SecretId"])
            .or_else(|| str_at(v, &["responseElements", "arn"]))
            .or_else(|| str_at(v, &["responseElements", "aRN"]))
            .or_else(|| str_at(v, &["serviceEventDetails", "SecretId"]))
            .map(str::to_string)
            .or_else(|| message.as_deref().and_then(resource_in_message))
            .or_else(|| {
                v.get("resources").and_then(Value::as_array).and_then(|r| {
                    r.iter().find_map(|x| {
                        str_at(x, &["ARN"])
                            .or_else(|| str_at(x, &["arn"]))
                            .map(str::to_string)
                    })
                })
            });
        ids.extend(found);
    } else if matches!(action, Action::Create | Action::Delete) {
        // Keep the ARN too: later calls may use either form.
        if let Some(arn) = str_at(v, &["responseElements", "arn"])
            .or_else(|| str_at(v, &["responseElements", "aRN"]))
            && !ids.iter().any(|i| i == arn)
        {
            ids.push(arn.to_string());
        }
    }
    if ids.is_empty() {
        return Ok(if base.key_id.is_some() {
            vec![base]
        } else {
            Vec::new()
        });
    }
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.into_iter().enumerate() {
        let mut e = base.clone();
        e.secret = Some(id);
        e.action = action;
        // One signed call, however many secrets it names.
        if i > 0 {
            e.key_id = None;
        }
        out.push(e);
    }
    Ok(out)
}

/// "… secretsmanager:GetSecretValue on resource: X because …" → X.
fn resource_in_message(m: &str) -> Option<String> {
    let (_, rest) = m.split_once("on resource: ")?;
    let id = rest.split_whitespace().next()?.trim_end_matches(['.', ',']);
    (!id.is_empty()).then(|| id.to_string())
}
