//! Vault audit devices: `vault audit list -format=json` (an object of devices by path:
//! `type`, `description`, `options`, `local`, `path`; `{}` when none is enabled) or
//! `vault read -format=json sys/audit` (the same under `data`). The export does not name
//! the server: its id is `vault:sys/audit`.

use serde_json::Value;

use super::{kind_of, s};
use crate::audit::model::{AuditDevice, Kind, Loc, Store, StoreSettings};

const ID: &str = "vault:sys/audit";

/// The `vault-audit-devices` parser: one store, the Vault server, with every audit device
/// enabled on it (none for `{}`).
pub fn devices(v: &Value, loc: Loc) -> Result<Vec<Store>, String> {
    let Value::Object(top) = v else {
        return Err(format!("expected a JSON object, found {}", kind_of(v)));
    };
    // `vault read sys/audit` wraps the devices in a response.
    let map = match (top.get("data"), top.get("request_id")) {
        (Some(Value::Object(d)), Some(_)) => d,
        (Some(other), Some(_)) => {
            return Err(format!("data is {}, expected an object", kind_of(other)));
        }
        _ => top,
    };
    let mut devices = Vec::with_capacity(map.len());
    for (path, d) in map {
        let kind = match d {
            Value::Object(_) => {
                s(d, "type").ok_or_else(|| format!("audit device {path:?} has no type"))?
            }
            other => {
                return Err(format!(
                    "audit device {path:?} is {}, expected an object",
                    kind_of(other)
                ));
            }
        };
        let opts = d.get("options");
        let target = opts
            .and_then(|o| {
                s(o, "file_path")
                    .or_else(|| s(o, "path"))
                    .or_else(|| s(o, "address"))
            })
            .map(str::to_string);
        devices.push(AuditDevice {
            path: s(d, "path").unwrap_or(path).to_string(),
            kind: kind.to_string(),
            target,
        });
    }
    Ok(vec![Store {
        id: ID.to_string(),
        name: "Vault audit devices".to_string(),
        kind: Kind::VaultServer,
        loc,
        settings: StoreSettings::VaultAudit { devices },
    }])
}

/// Whether a device keeps what it receives: a file device writing to `discard` keeps
/// nothing (Vault's documented way to test the pipeline without a log).
pub fn keeps_records(d: &AuditDevice) -> bool {
    !(d.kind.eq_ignore_ascii_case("file")
        && d.target
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("discard")))
}
