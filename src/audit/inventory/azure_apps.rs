//! Entra ID application client secrets: `az ad app credential list --id APP` (the Graph
//! `passwordCredential` list: `keyId`, `displayName`, `startDateTime`, `endDateTime`,
//! `hint`), the same from `az ad sp credential list`, the applications themselves
//! (`az ad app show` / `az ad app list`: `appId`, `displayName`, `passwordCredentials`),
//! and the shape older `az` versions printed (Azure AD Graph: `startDate`, `endDate`).
//! Certificates (`keyCredentials`) are public keys, not secrets: not audited.

use serde_json::Value;

use super::{date, kind_of, s, value_fingerprint};
use crate::audit::model::{Item, Kind, Loc, ValueSighting};

/// The `azure-app-credentials` parser: one item per client secret of an application, or
/// the one secret a credential entry is. A certificate credential is an error (not audited).
pub fn credentials(v: &Value, loc: Loc) -> Result<Vec<Item>, String> {
    if let Some(list) = v.get("passwordCredentials") {
        let Value::Array(list) = list else {
            return Err(format!(
                "passwordCredentials is {}, expected a list",
                kind_of(list)
            ));
        };
        let app = App {
            id: s(v, "appId"),
            name: s(v, "displayName"),
        };
        let mut out = Vec::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            out.push(
                secret(c, &app, loc.clone())
                    .map_err(|e| format!("passwordCredentials[{i}]: {e}"))?,
            );
        }
        return Ok(out);
    }
    if v.get("type").is_some() && v.get("usage").is_some() {
        return Err(
            "a certificate credential (`az ad app credential list --cert`), not a client secret: not audited"
                .into(),
        );
    }
    let app = App {
        id: s(v, "appId"),
        name: None,
    };
    secret(v, &app, loc).map(|it| vec![it])
}

/// The application a credential belongs to, when the export says.
struct App<'a> {
    id: Option<&'a str>,
    name: Option<&'a str>,
}

fn secret(c: &Value, app: &App, loc: Loc) -> Result<Item, String> {
    if !c.is_object() {
        return Err(format!("expected a JSON object, found {}", kind_of(c)));
    }
    let key_id = s(c, "keyId").ok_or("client secret without \"keyId\"")?;
    let mut it = Item::new(
        format!("azure-app-secret:{}", key_id.to_ascii_lowercase()),
        Kind::AzureClientSecret,
        loc.clone(),
    );
    let label = s(c, "displayName")
        .map(str::to_string)
        .or_else(|| s(c, "hint").map(|h| format!("secret {h}…")))
        .unwrap_or_else(|| key_id.to_string());
    it.name = match app.name.or(app.id) {
        Some(a) => format!("{a}: {label}"),
        None => label,
    };
    it.principal = app.id.map(str::to_string);
    it.key_id = Some(key_id.to_ascii_lowercase());
    it.created = date(c, "startDateTime").or_else(|| date(c, "startDate"));
    it.not_before = it.created;
    it.expires = date(c, "endDateTime").or_else(|| date(c, "endDate"));
    it.expiry_supported = true;
    it.expiry_enforced = true;
    // Graph returns the value once, when the secret is added (`secretText`); AAD Graph
    // called it `value`.
    for field in ["secretText", "value"] {
        if let Some(Value::String(val)) = c.get(field)
            && !val.is_empty()
        {
            it.values_seen.push(ValueSighting {
                field: field.into(),
                fingerprint: value_fingerprint(val.as_bytes()),
                note: None,
                loc: loc.clone(),
            });
        }
    }
    Ok(it)
}
