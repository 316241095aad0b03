//! AWS CloudTrail: `{"Records":[…]}` files, one event per line, `lookup-events` output
//! (`CloudTrailEvent` JSON strings) and EventBridge envelopes (`detail`).

use serde_json::Value;

use super::str_at;
use crate::audit::model::{AccessOutcome, Action, Event, Item, Kind, Provider, SecretFilter};
use crate::audit::policy::Cidr;
use crate::audit::time;

const SM: &str = "secretsmanager.amazonaws.com";

/// AWS compute services that, named as an event's `sourceIPAddress`, ran the call.
const COMPUTE_SERVICES: [&str; 10] = [
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "eks.amazonaws.com",
    "batch.amazonaws.com",
    "codebuild.amazonaws.com",
    "elasticbeanstalk.amazonaws.com",
    "apprunner.amazonaws.com",
    "glue.amazonaws.com",
];

/// Why a call signed with a long-term IAM user (or root) key came from a workload, if it
/// did: the SDK's execution environment in the user agent (`exec-env/AWS_Lambda_…`,
/// `AWS_ECS_FARGATE`; CloudShell is a person's shell), an Amazon Linux kernel in it (an
/// EC2 host), an AWS compute service as the source, or a source in a workload CIDR.
fn workload_sign(v: &Value, key: &str, cidrs: &[Cidr]) -> Option<Box<str>> {
    if !key.starts_with("AKIA") {
        return None;
    }
    let typ = str_at(v, &["userIdentity", "type"])?;
    if typ != "IAMUser" && typ != "Root" {
        return None;
    }
    // Every call of a busy key passes here: the agent is searched in place (SDKs write these
    // markers in lower case), and nothing is allocated unless a sign is found.
    if let Some(agent) = str_at(v, &["userAgent"]) {
        if let Some(i) = agent.find("exec-env/").or_else(|| agent.find("exec-env#")) {
            let env = agent[i + 9..]
                .split(|c: char| c.is_whitespace() || c == ')' || c == ',')
                .next()
                .unwrap_or("");
            if env
                .get(..10)
                .is_some_and(|e| e.eq_ignore_ascii_case("cloudshell"))
            {
                return None;
            }
            if !env.is_empty() {
                return Some(format!("user agent exec-env/{env}").into());
            }
        }
        if agent.contains("amzn")
            && let Some(tok) = agent.split_whitespace().find(|t| {
                ["amzn1", "amzn2", "amzn.1", "amzn.2"]
                    .iter()
                    .any(|m| t.contains(m))
            })
        {
            return Some(format!("user agent {tok} (Amazon Linux: an EC2 host)").into());
        }
    }
    let source = str_at(v, &["sourceIPAddress"])?;
    if source.ends_with(".amazonaws.com") && COMPUTE_SERVICES.contains(&source) {
        return Some(format!("source {source} (AWS compute service)").into());
    }
    if cidrs.is_empty() {
        return None;
    }
    let ip: std::net::IpAddr = source.parse().ok()?;
    let block = cidrs.iter().find(|c| c.contains(&ip))?;
    Some(format!("source {source} (workload CIDR {block})").into())
}

/// The events of one record; `cidrs` are the policy's workload address blocks.
pub fn events(v: &Value, cidrs: &[Cidr]) -> Result<Vec<Event>, String> {
    if let Some(Value::String(inner)) = v.get("CloudTrailEvent") {
        let rec: Value =
            serde_json::from_str(inner).map_err(|e| format!("CloudTrailEvent is not JSON: {e}"))?;
        return events(&rec, cidrs);
    }
    if let Some(detail) = v.get("detail").filter(|d| d.is_object())
        && (v.get("detail-type").is_some() || v.get("source").is_some())
    {
        return events(detail, cidrs);
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
    let workload = key_id.as_deref().and_then(|k| workload_sign(v, k, cidrs));
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
        filters: Vec::new(),
        source: str_at(v, &["sourceIPAddress"]).map(str::to_string),
        root: str_at(v, &["userIdentity", "type"]) == Some("Root"),
        workload,
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
    if ids.is_empty()
        && action == Action::Read
        && let Some(filters) = rp.map(request_filters).filter(|f| !f.is_empty())
    {
        // BatchGetSecretValue by filter names no secret: kept as a read of whatever the
        // filters select, so the report can say which secrets it may have read.
        let mut e = base;
        e.action = Action::Read;
        e.filters = filters;
        return Ok(vec![e]);
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
            e.workload = None;
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

/// `requestParameters.filters` of BatchGetSecretValue / ListSecrets.
fn request_filters(rp: &Value) -> Vec<SecretFilter> {
    let list = rp
        .get("filters")
        .or_else(|| rp.get("Filters"))
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|f| {
            let key = str_at(f, &["key"]).or_else(|| str_at(f, &["Key"]))?;
            let values = f
                .get("values")
                .or_else(|| f.get("Values"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some(SecretFilter {
                key: key.to_ascii_lowercase(),
                values,
            })
        })
        .collect()
}

/// Words Secrets Manager matches filter values against: the whole field and its parts
/// between `/ _ + = . @ -` and spaces.
fn words(field: &str) -> impl Iterator<Item = &str> {
    std::iter::once(field).chain(
        field
            .split(|c: char| "/_+=.@- ".contains(c))
            .filter(|w| !w.is_empty()),
    )
}

fn value_matches(field: &str, value: &str) -> bool {
    let v = value.to_lowercase();
    words(field).any(|w| w.to_lowercase().starts_with(&v))
}

/// Whether a BatchGetSecretValue with these filters may have returned `item`. Filters are
/// combined with AND, values of one filter with OR, and `!value` negates. Matching is
/// case-insensitive prefix matching on the field and on its words, which may over-match
/// (the question is which secrets the read *could* have covered), never under-match; an
/// unknown key matches everything.
pub fn filters_match(filters: &[SecretFilter], item: &Item) -> bool {
    if item.kind != Kind::AwsSecret {
        return false;
    }
    let region = item
        .id
        .strip_prefix("arn:aws:secretsmanager:")
        .and_then(|r| r.split(':').next())
        .unwrap_or("");
    let desc = item.description.as_deref().unwrap_or("");
    let owning = item.owning_service.as_deref().unwrap_or("");
    filters.iter().all(|f| {
        let fields: Vec<&str> = match f.key.as_str() {
            "name" => vec![item.name.as_str()],
            "description" => vec![desc],
            "tag-key" => item.tags.keys().map(String::as_str).collect(),
            "tag-value" => item.tags.values().map(String::as_str).collect(),
            "owning-service" => vec![owning],
            "primary-region" => vec![region],
            "all" => {
                let mut v = vec![item.name.as_str(), desc, owning, region];
                v.extend(item.tags.keys().map(String::as_str));
                v.extend(item.tags.values().map(String::as_str));
                v
            }
            _ => return true,
        };
        let (neg, pos): (Vec<&String>, Vec<&String>) =
            f.values.iter().partition(|v| v.starts_with('!'));
        let pos_ok = pos.is_empty()
            || pos
                .iter()
                .any(|v| fields.iter().any(|fld| value_matches(fld, v)));
        let neg_ok = neg.iter().all(|v| {
            let v = &v[1..];
            !fields.iter().any(|fld| value_matches(fld, v))
        });
        pos_ok && neg_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::Loc;

    #[test]
    fn filters_select_by_name_tag_and_negation() {
        let mut it = Item::new(
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/app/db-AbCdEf",
            Kind::AwsSecret,
            Loc::default(),
        );
        it.name = "prod/app/db".into();
        it.tags.insert("team".into(), "payments".into());
        let f = |k: &str, v: &[&str]| SecretFilter {
            key: k.into(),
            values: v.iter().map(|x| x.to_string()).collect(),
        };
        assert!(filters_match(&[f("name", &["prod/"])], &it));
        assert!(filters_match(&[f("name", &["app"])], &it));
        assert!(!filters_match(&[f("name", &["staging"])], &it));
        assert!(filters_match(
            &[f("tag-key", &["team"]), f("tag-value", &["pay"])],
            &it
        ));
        assert!(!filters_match(
            &[f("tag-key", &["team"]), f("tag-value", &["!pay"])],
            &it
        ));
        assert!(filters_match(&[f("primary-region", &["us-east"])], &it));
        assert!(filters_match(&[f("something-new", &["x"])], &it));
        let v = serde_json::json!({"eventTime": "2026-10-01T00:00:00Z", "eventSource": SM,
            "eventName": "BatchGetSecretValue",
            "requestParameters": {"filters": [{"key": "name", "values": ["prod/"]}]}});
        let evs = events(&v, &[]).expect("event");
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].filters, vec![f("name", &["prod/"])]);
        assert_eq!(evs[0].secret, None);
    }
}
