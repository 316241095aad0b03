//! Azure Key Vault diagnostic logs (`AuditEvent`): `{"records":[…]}` blobs or JSON Lines,
//! and rows exported from the Log Analytics `AzureDiagnostics` table (`id_s`, `*_d` columns).

use serde_json::Value;

use super::str_at;
use crate::audit::inventory::azure::{alias, split_id};
use crate::audit::model::{AccessOutcome, Action, Event, Provider};
use crate::audit::time;

/// The event of one log record; None for a record about no secret (keys, certificates, the
/// vault's own operations).
pub fn event(v: &Value) -> Result<Option<Event>, String> {
    if !v.is_object() {
        return Err("Azure log record is not an object".into());
    }
    let t = v
        .get("time")
        .or_else(|| v.get("TimeGenerated"))
        .and_then(time::parse_value)
        .ok_or("Azure log record without a valid time")?;
    let op = str_at(v, &["operationName"])
        .or_else(|| str_at(v, &["OperationName"]))
        .ok_or("Azure log record without operationName")?;
    let props = v.get("properties").cloned().unwrap_or(Value::Null);
    let uri = str_at(&props, &["id"])
        .or_else(|| str_at(v, &["id_s"]))
        .or_else(|| str_at(&props, &["requestUri"]))
        .or_else(|| str_at(v, &["requestUri_s"]))
        .map(|u| u.split('?').next().unwrap_or(u).to_string());
    let Some((base, _, _)) = uri.as_deref().and_then(split_id) else {
        return Ok(None);
    };
    let action = match op {
        "SecretGet" => Action::Read,
        "SecretSet" => Action::Write,
        "SecretDelete" | "SecretPurge" => Action::Delete,
        "SecretRecover" | "SecretRestore" => Action::Restore,
        _ => Action::Other,
    };
    let status = props
        .get("httpStatusCode")
        .or_else(|| v.get("httpStatusCode_d"))
        .and_then(|s| {
            s.as_i64()
                .or_else(|| s.as_str().and_then(|x| x.parse().ok()))
        })
        .unwrap_or(0);
    let sig = str_at(v, &["resultSignature"])
        .or_else(|| str_at(v, &["ResultSignature"]))
        .unwrap_or("")
        .to_ascii_lowercase();
    let outcome = if status == 401 || status == 403 || sig == "forbidden" || sig == "unauthorized" {
        AccessOutcome::Denied
    } else if status >= 400 {
        AccessOutcome::Failed
    } else {
        AccessOutcome::Ok
    };
    let claim = v.pointer("/identity/claim");
    let principal = claim
        .and_then(|c| {
            [
                "upn",
                "appid",
                "oid",
                "http://schemas.microsoft.com/identity/claims/objectidentifier",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            ]
            .iter()
            .find_map(|k| str_at(c, &[k]))
        })
        .or_else(|| str_at(v, &["identity_claim_upn_s"]))
        .or_else(|| str_at(v, &["identity_claim_oid_g"]))
        .or_else(|| {
            str_at(
                v,
                &["identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g"],
            )
        })
        .or_else(|| str_at(v, &["callerIpAddress"]))
        .or_else(|| str_at(v, &["CallerIPAddress"]))
        .map(str::to_string);
    Ok(Some(Event {
        time: t,
        provider: Provider::Azure,
        secret: Some(alias(&base)),
        action,
        outcome,
        principal,
        key_id: None,
        name: op.to_string(),
        message: str_at(v, &["resultDescription"]).map(str::to_string),
        filters: Vec::new(),
        source: str_at(v, &["callerIpAddress"])
            .or_else(|| str_at(v, &["CallerIPAddress"]))
            .map(str::to_string),
        root: false,
        workload: None,
    }))
}
