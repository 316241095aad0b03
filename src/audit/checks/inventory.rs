//! INV: what the inventory itself says wrong: secret values in an export (INV-001), and
//! secrets whose age cannot be told (INV-002).

use serde_json::{Value, json};

use super::{CheckId, Ctx, Input, Secret};

/// The INV checks, per inventory secret.
pub fn run(cx: &mut Ctx, input: &Input) {
    for v in &input.secrets {
        secret(cx, v);
    }
}

fn secret(cx: &mut Ctx, v: &Secret) {
    let (s, it) = (&v.subject, v.item);
    if v.live && v.reference.is_none() {
        // Without any date nothing age-based can be judged; say so rather than pass silently.
        cx.push(
        s,
        CheckId::Inv002,
        "age unknown, not evaluated: the inputs give no creation, rotation or version date for this secret, so rotation age (ROT-003, ROT-005) and never-used (USE-002) were not checked".to_string(),
        vec![("created", Value::Null), ("last_rotated", Value::Null)],
        None,
        None,
    );
    }

    if !it.values_seen.is_empty() {
        // Each field with its own fingerprint, or why it has none, so a reader can tell
        // which value a fingerprint belongs to.
        let fields: Vec<String> = it
            .values_seen
            .iter()
            .map(|v| {
                let mut d = v.field.clone();
                match (&v.fingerprint, &v.note) {
                    (Some(fp), Some(n)) => d.push_str(&format!(" (fingerprint {fp}; {n})")),
                    (Some(fp), None) => d.push_str(&format!(" (fingerprint {fp})")),
                    (None, Some(n)) => d.push_str(&format!(" ({n})")),
                    (None, None) => {}
                }
                d
            })
            .collect();
        let loc = it.values_seen.first().map(|v| v.loc.clone());
        cx.push(
            s,
            CheckId::Inv001,
            format!(
                "the input holds the secret's value in {}; the value was not kept",
                fields.join(", ")
            ),
            vec![
                (
                    "fields",
                    json!(
                        it.values_seen
                            .iter()
                            .map(|v| v.field.clone())
                            .collect::<Vec<_>>()
                    ),
                ),
                (
                    "fingerprints",
                    json!(
                        it.values_seen
                            .iter()
                            .filter_map(|v| v.fingerprint.clone())
                            .collect::<Vec<_>>()
                    ),
                ),
                (
                    "values",
                    json!(
                        it.values_seen
                            .iter()
                            .map(|v| json!({"field": v.field, "fingerprint": v.fingerprint, "note": v.note}))
                            .collect::<Vec<_>>()
                    ),
                ),
            ],
            loc,
            None,
        );
    }
}
