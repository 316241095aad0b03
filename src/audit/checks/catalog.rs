//! Every check the auditor runs: its id ([`CheckId`]) and its stable description
//! ([`CHECKS`], in the order reports and SARIF list them).

use std::fmt;

pub use crate::rules::Severity;

/// Declares [`CheckId`] and its spelling from one list, so an id and its text cannot drift.
macro_rules! check_ids {
    ($($variant:ident = $id:literal),* $(,)?) => {
        /// A check's stable id (`ROT-003`): the SARIF `ruleId`, the JSON `check`, the key of
        /// exemptions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CheckId {
            $(
                #[doc = concat!("`", $id, "`, described by its entry in [`CHECKS`].")]
                $variant
            ),*
        }

        impl CheckId {
            /// Every check, in [`CHECKS`] order.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant),*];

            /// The id as reports, SARIF and exemptions write it (`ROT-003`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id),*
                }
            }
        }
    };
}

check_ids! {
    Rot001 = "ROT-001",
    Rot002 = "ROT-002",
    Rot003 = "ROT-003",
    Rot004 = "ROT-004",
    Rot005 = "ROT-005",
    Exp001 = "EXP-001",
    Exp002 = "EXP-002",
    Use001 = "USE-001",
    Use002 = "USE-002",
    Use003 = "USE-003",
    Key001 = "KEY-001",
    Leak001 = "LEAK-001",
    Leak002 = "LEAK-002",
    Leak003 = "LEAK-003",
    Acc001 = "ACC-001",
    Acc002 = "ACC-002",
    Pat001 = "PAT-001",
    Pat002 = "PAT-002",
    Pat003 = "PAT-003",
    Pat004 = "PAT-004",
    Pat005 = "PAT-005",
    Shr001 = "SHR-001",
    Shr002 = "SHR-002",
    Sep001 = "SEP-001",
    Sep002 = "SEP-002",
    Inv001 = "INV-001",
    Inv002 = "INV-002",
    Prv001 = "PRV-001",
    Prv002 = "PRV-002",
    Prv003 = "PRV-003",
    Prv004 = "PRV-004",
    Prv005 = "PRV-005",
    Prv006 = "PRV-006",
    Prv007 = "PRV-007",
    Prv008 = "PRV-008",
    Mch001 = "MCH-001",
    Mch002 = "MCH-002",
    Mch003 = "MCH-003",
    Mgr001 = "MGR-001",
    Mgr002 = "MGR-002",
    Mgr003 = "MGR-003",
    Mgr004 = "MGR-004",
    Mgr005 = "MGR-005",
    Mgr006 = "MGR-006",
}

impl CheckId {
    /// The check's description.
    pub fn def(self) -> &'static CheckDef {
        &CHECKS[self as usize]
    }
}

// `def` indexes CHECKS by variant: the table must list the checks in declaration order.
const _: () = {
    assert!(CHECKS.len() == CheckId::ALL.len());
    let mut i = 0;
    while i < CHECKS.len() {
        assert!(CHECKS[i].id as usize == i);
        i += 1;
    }
};

/// Reports list checks by id (`ACC-001` before `EXP-001`), not by family.
impl Ord for CheckId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for CheckId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<9}` lines up tables.
        f.pad(self.as_str())
    }
}

impl serde::Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A check id that names no check, with the nearest one as a suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheck {
    given: String,
    nearest: Option<CheckId>,
}

impl fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.nearest {
            Some(n) => write!(f, "unknown check {:?} (did you mean {n}?)", self.given),
            None => write!(
                f,
                "unknown check {:?} (checks are written like ROT-003: ROT, EXP, USE, KEY, LEAK, ACC, PAT, SHR, SEP, INV, PRV, MCH or MGR, a dash and three digits)",
                self.given
            ),
        }
    }
}

impl std::error::Error for UnknownCheck {}

impl std::str::FromStr for CheckId {
    type Err = UnknownCheck;

    fn from_str(s: &str) -> Result<CheckId, UnknownCheck> {
        if let Some(c) = CheckId::ALL.iter().find(|c| c.as_str() == s) {
            return Ok(*c);
        }
        let nearest = nearest(s.trim(), CheckId::ALL.iter().map(|c| c.as_str()))
            .and_then(|n| CheckId::ALL.iter().copied().find(|c| c.as_str() == n));
        Err(UnknownCheck {
            given: s.to_string(),
            nearest,
        })
    }
}

/// The name in `names` closest to `given` (case aside), when it is close enough to be the
/// one meant: for "did you mean" in policy errors.
pub fn nearest<'a>(given: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = given.to_ascii_uppercase();
    names
        .into_iter()
        .map(|n| (edit_distance(&wanted, &n.to_ascii_uppercase()), n))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, n)| *d <= 3.min(n.len() / 2))
        .map(|(_, n)| n)
}

/// Levenshtein distance (names are short: the quadratic table is a few dozen cells).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A check's stable description.
pub struct CheckDef {
    /// The check described; this entry is `CHECKS[id as usize]`.
    pub id: CheckId,
    /// What a failing result says is wrong, in a few words: the check's heading in reports
    /// and its SARIF rule name.
    pub title: &'static str,
    /// The severity of every result of the check, which `--fail-on` compares.
    pub severity: Severity,
    /// "review" results are advisories (never failing).
    pub review: bool,
    /// What to do about a result, shown with it in every report.
    pub fix: &'static str,
    /// The benchmark controls and standards the check maps to (CIS, PCI DSS, AWS Config
    /// rules, Security Hub controls, …).
    pub controls: &'static [&'static str],
}

/// One description per [`CheckId`], in the order the ids are declared, so that
/// [`CheckId::def`] can index it.
pub const CHECKS: [CheckDef; 44] = [
    CheckDef {
        id: CheckId::Rot001,
        title: "Automatic rotation required but not enabled",
        severity: Severity::Medium,
        review: false,
        fix: "Enable the provider's automatic rotation (AWS: `aws secretsmanager rotate-secret --rotation-rules`; GCP: set a rotation period and Pub/Sub topic), or change the secret's class if it must not rotate automatically.",
        controls: &[
            "AWS Config secretsmanager-rotation-enabled-check",
            "Security Hub SecretsManager.1",
            "PCI DSS 4.0.1 8.6.3",
            "CIS Azure 8.8 (keys)",
        ],
    },
    CheckDef {
        id: CheckId::Rot002,
        title: "Rotation interval longer than the class allows",
        severity: Severity::Medium,
        review: false,
        fix: "Shorten the rotation schedule to at most the class's max_age_days.",
        controls: &[
            "AWS Config secretsmanager-rotation-enabled-check (maximumAllowedRotationFrequency)",
            "Security Hub SecretsManager.1",
            "Prowler secretmanager_secret_rotation_enabled (GCP)",
        ],
    },
    CheckDef {
        id: CheckId::Rot003,
        title: "Not rotated within max_age_days",
        severity: Severity::High,
        review: false,
        fix: "Rotate the secret now (new value, update consumers, revoke the old value) and automate rotation where the provider allows it.",
        controls: &[
            "AWS Config secretsmanager-secret-periodic-rotation",
            "Security Hub SecretsManager.4",
            "AWS Config access-keys-rotated",
            "Security Hub IAM.3",
            "CIS AWS 1.14",
            "CIS GCP 1.7, 1.15",
            "PCI DSS 4.0.1 3.7.4, 8.6.3",
        ],
    },
    CheckDef {
        id: CheckId::Rot004,
        title: "Scheduled rotation failing or missed",
        severity: Severity::High,
        review: false,
        fix: "Look at the rotation function's logs (AWS: the rotation Lambda's CloudWatch logs), fix the failure and run the rotation again (`aws secretsmanager rotate-secret --secret-id ID`).",
        controls: &[
            "AWS Config secretsmanager-scheduled-rotation-success-check",
            "Security Hub SecretsManager.2",
        ],
    },
    CheckDef {
        id: CheckId::Rot005,
        title: "Rotation due soon",
        severity: Severity::Low,
        review: true,
        fix: "Plan the rotation before the due date shown.",
        controls: &["PCI DSS 4.0.1 3.7.4"],
    },
    CheckDef {
        id: CheckId::Exp001,
        title: "No expiry (or too long a validity) where the class requires one",
        severity: Severity::Medium,
        review: false,
        fix: "Set an expiry date no further than the class's max_validity_days from creation (Azure: `az keyvault secret set-attributes --expires`; GCP: `gcloud secrets update --expire-time`).",
        controls: &[
            "Azure Policy: Key Vault secrets should have an expiration date",
            "Azure Policy: Secrets should have the specified maximum validity period",
            "CIS Azure 8.1-8.4",
        ],
    },
    CheckDef {
        id: CheckId::Exp002,
        title: "Expired but still enabled",
        severity: Severity::High,
        review: false,
        fix: "Replace the secret with a new value and expiry, then disable or delete the expired one.",
        controls: &[
            "Azure Policy: Secrets should have more than the specified number of days before expiration",
        ],
    },
    CheckDef {
        id: CheckId::Use001,
        title: "Not accessed for unused_days",
        severity: Severity::Low,
        review: false,
        fix: "Confirm the secret is no longer needed and disable or delete it; unused credentials widen the attack surface.",
        controls: &[
            "AWS Config secretsmanager-secret-unused",
            "Security Hub SecretsManager.3",
            "AWS Config iam-user-unused-credentials-check",
            "CIS AWS 1.12",
            "Security Hub IAM.8, IAM.22",
        ],
    },
    CheckDef {
        id: CheckId::Use002,
        title: "Active credential never used since creation",
        severity: Severity::Medium,
        review: false,
        fix: "Deactivate or delete credentials that were never used; create them only when needed.",
        controls: &[
            "AWS Config iam-user-unused-credentials-check",
            "CIS AWS 1.11 (no access keys at initial setup)",
            "Security Hub SecretsManager.3",
        ],
    },
    CheckDef {
        id: CheckId::Use003,
        title: "Usage not evaluated: the audit logs do not cover it",
        severity: Severity::Info,
        review: true,
        fix: "Give audit logs that reach the audit date and cover the secret's life or the unused window (export them right before the audit; for CloudTrail use the S3 trail rather than the 90-day lookup-events), then audit again.",
        controls: &[
            "AWS Config secretsmanager-secret-unused (INSUFFICIENT_DATA)",
            "PCI DSS 4.0.1 10.2.1",
        ],
    },
    CheckDef {
        id: CheckId::Key001,
        title: "More than one active access key for one user",
        severity: Severity::Medium,
        review: false,
        fix: "Keep one active access key per user: deactivate (`aws iam update-access-key --status Inactive`) and then delete the older key once nothing uses it.",
        controls: &["CIS AWS 1.13", "Prowler iam_user_two_active_access_key"],
    },
    CheckDef {
        id: CheckId::Leak001,
        title: "Leaked and not rotated since the leak",
        severity: Severity::Critical,
        review: false,
        fix: "Treat the secret as compromised: rotate it (or deactivate the key) now, then review its use since the leak and remove it from the source where it leaked.",
        controls: &[
            "PCI DSS 4.0.1 3.7.5, 8.6.3 (change upon compromise)",
            "NIST SP 800-63B 5.1.1.2",
        ],
    },
    CheckDef {
        id: CheckId::Leak002,
        title: "Leaked credential used after the leak",
        severity: Severity::Critical,
        review: false,
        fix: "Deactivate the key immediately, investigate every call it made after the leak (CloudTrail), and rotate anything it could reach.",
        controls: &[
            "PCI DSS 4.0.1 3.7.5, 10.2",
            "AWS AWSCompromisedKeyQuarantine guidance",
        ],
    },
    CheckDef {
        id: CheckId::Leak003,
        title: "Leaked credential that matches no inventory entry",
        severity: Severity::High,
        review: false,
        fix: "Find the owner of the leaked credential, revoke it, and bring its replacement under a secrets manager (or add it to the inventory with its fingerprint).",
        controls: &[
            "PCI DSS 4.0.1 3.7.5",
            "PCI DSS 4.0.1 12.5.1 (inventory of system components)",
        ],
    },
    CheckDef {
        id: CheckId::Acc001,
        title: "Accessed (or attempted) after deletion",
        severity: Severity::High,
        review: false,
        fix: "Find the client still asking for the deleted secret: a successful read means the deletion has not taken effect; failed ones show a consumer that was not migrated.",
        controls: &[
            "PCI DSS 4.0.1 10.2.1",
            "CIS AWS 4.x (CloudTrail monitoring)",
        ],
    },
    CheckDef {
        id: CheckId::Acc002,
        title: "Burst of denied access attempts",
        severity: Severity::High,
        review: false,
        fix: "Investigate the principal: a burst of denied reads is either a broken deployment or someone probing for secrets.",
        controls: &[
            "PCI DSS 4.0.1 10.2.1.4 (invalid access attempts)",
            "CIS AWS 4.x (unauthorized API calls alarm)",
        ],
    },
    CheckDef {
        id: CheckId::Pat001,
        title: "First read of a secret by a principal",
        severity: Severity::Low,
        review: false,
        fix: "Confirm with the principal's owner that the new read is expected (a new consumer or deployment); if it is not, revoke the principal's access and rotate the secret. Expected reads become history once they are older than the recent period.",
        controls: &[
            "NIST SP 800-53 AU-6 (audit record review, analysis and reporting)",
            "NIST SP 800-53 AC-2(12) (account monitoring for atypical usage)",
            "PCI DSS 4.0.1 10.4.1 (audit logs reviewed)",
        ],
    },
    CheckDef {
        id: CheckId::Pat002,
        title: "Read from a network the principal never used",
        severity: Severity::Medium,
        review: false,
        fix: "Check where the read came from: a new deployment, VPN or NAT range explains it; otherwise treat the principal's credentials as stolen (revoke its sessions and keys, rotate the secrets it read). Where the provider allows it, bind reads to known networks (AWS `aws:SourceIp` / `aws:SourceVpce` conditions, Vault `token_bound_cidrs`, GCP VPC Service Controls, the Key Vault firewall).",
        controls: &[
            "NIST SP 800-53 AC-2(12) (account monitoring for atypical usage)",
            "NIST SP 800-53 SI-4 (system monitoring)",
            "PCI DSS 4.0.1 10.4.1 (audit logs reviewed)",
        ],
    },
    CheckDef {
        id: CheckId::Pat003,
        title: "Read-volume spike against the principal's own history",
        severity: Severity::Medium,
        review: false,
        fix: "Find out why the principal read the secret so often: a retry loop or a cache that stopped working (fix the client), or bulk collection by someone holding its credentials (revoke them and rotate the secret).",
        controls: &[
            "NIST SP 800-53 SI-4 (system monitoring)",
            "NIST SP 800-53 AU-6 (audit record review, analysis and reporting)",
            "PCI DSS 4.0.1 10.4.1 (audit logs reviewed)",
        ],
    },
    CheckDef {
        id: CheckId::Pat004,
        title: "Root credentials used",
        severity: Severity::High,
        review: false,
        fix: "Revoke the Vault root token (`vault token revoke -self`) and generate one only for an emergency (`vault operator generate-root`, with a second person present); do daily work through scoped policies. For the AWS root user, use IAM roles and keep root for the few tasks that need it.",
        controls: &[
            "HashiCorp Vault production hardening (revoke root tokens after setup)",
            "CIS AWS Foundations v3.0 1.7 (eliminate use of the root user), 4.3 (root usage monitored)",
            "NIST SP 800-53 AC-6(9) (log use of privileged functions)",
            "PCI DSS 4.0.1 10.2.1.2 (actions by administrative accounts)",
        ],
    },
    CheckDef {
        id: CheckId::Pat005,
        title: "Break-glass principal used",
        severity: Severity::High,
        review: false,
        fix: "Match every use to an incident or change record; afterwards rotate the break-glass credentials and the secrets they read, and review what was done with them.",
        controls: &[
            "NIST SP 800-53 AC-2(2) (emergency accounts)",
            "NIST SP 800-53 AC-6(9) (log use of privileged functions)",
            "PCI DSS 4.0.1 10.2.1.2 (actions by administrative accounts)",
        ],
    },
    CheckDef {
        id: CheckId::Shr001,
        title: "One value in two environments",
        severity: Severity::High,
        review: false,
        fix: "Give each environment its own value: rotate the copies so that no two environments share one.",
        controls: &[
            "PCI DSS 4.0.1 6.5.3 (pre-production separate from production)",
            "NIST SP 800-57 5.2 (key separation)",
        ],
    },
    CheckDef {
        id: CheckId::Shr002,
        title: "One value used by two services",
        severity: Severity::Medium,
        review: false,
        fix: "Give each service its own value (and, where the store has them, its own credential or database user), so that one service's compromise or rotation does not reach the other.",
        controls: &[
            "NIST SP 800-57 Pt1 5.2 (a key is used for one purpose)",
            "NIST SP 800-53 AC-6 (least privilege)",
            "PCI DSS 4.0.1 8.2.2 (shared credentials only where necessary)",
        ],
    },
    CheckDef {
        id: CheckId::Sep001,
        title: "Non-production principal read a production secret",
        severity: Severity::High,
        review: false,
        fix: "Give the non-production workload its own non-production secret and remove its access to production; rotate the production secret, which a less protected environment has held.",
        controls: &[
            "PCI DSS 4.0.1 6.5.3 (pre-production environments separated from production)",
            "PCI DSS 4.0.1 6.5.4 (roles and functions separated between production and pre-production)",
            "NIST SP 800-53 AC-6 (least privilege)",
        ],
    },
    CheckDef {
        id: CheckId::Sep002,
        title: "Non-production principal can read production secrets",
        severity: Severity::High,
        review: false,
        fix: "Remove the grant, or narrow it to the principal's own environment (`staging/*`, the staging namespace, `secret/data/staging/*`): only production principals should be able to read production secrets.",
        controls: &[
            "PCI DSS 4.0.1 6.5.3 (pre-production environments separated from production)",
            "PCI DSS 4.0.1 6.5.4 (roles and functions separated between production and pre-production)",
            "NIST SP 800-53 AC-6 (least privilege)",
        ],
    },
    CheckDef {
        id: CheckId::Inv001,
        title: "Secret value present in an input",
        severity: Severity::High,
        review: false,
        fix: "Export metadata only (AWS list-secrets/describe-secret, `az keyvault secret list`, `kubectl get secrets -o json | jq 'del(.items[].data, .items[].stringData, .items[].metadata.annotations[\"kubectl.kubernetes.io/last-applied-configuration\"])'`), delete the file, and treat the values as exposed where the file was stored.",
        controls: &[
            "PCI DSS 4.0.1 3.5.1",
            "CIS Kubernetes 5.4.1 (prefer secrets as files)",
        ],
    },
    CheckDef {
        id: CheckId::Inv002,
        title: "Age unknown: no dates in the inputs, not evaluated",
        severity: Severity::Info,
        review: true,
        fix: "Export the secret's metadata with its dates (a current CLI version; AWS list-secrets or describe-secret, `gcloud secrets list`, `az keyvault secret list`), or add `created` / `last_rotated` to the generic inventory.",
        controls: &["PCI DSS 4.0.1 12.5.1 (inventory of system components)"],
    },
    CheckDef {
        id: CheckId::Prv001,
        title: "Can read every secret",
        severity: Severity::High,
        review: false,
        fix: "Scope the grant to the secrets the principal needs: name their ARNs or a service prefix (AWS `Resource`), bind a namespaced Role instead of a ClusterRole (Kubernetes), narrow the Vault path, grant the role on the secrets rather than the project (GCP), or at the Key Vault (Azure).",
        controls: &[
            "CIS Kubernetes 5.1.2 (minimize access to secrets)",
            "NIST SP 800-53 AC-6 (least privilege)",
            "PCI DSS 4.0.1 7.2.2, 7.2.5",
        ],
    },
    CheckDef {
        id: CheckId::Prv002,
        title: "Reads through a wildcard spanning an environment or every service",
        severity: Severity::Medium,
        review: false,
        fix: "Replace the wildcard with the service's own prefix (`prod/payments/*`, `secret/data/prod/payments/*`), so that one service's credentials do not open another's.",
        controls: &[
            "NIST SP 800-53 AC-6 (least privilege)",
            "PCI DSS 4.0.1 7.2.2, 7.2.5",
        ],
    },
    CheckDef {
        id: CheckId::Prv003,
        title: "Open to anyone or to any authenticated identity",
        severity: Severity::Critical,
        review: false,
        fix: "Remove the public principal (`\"Principal\": \"*\"` without a condition, `allUsers`, `allAuthenticatedUsers`, `system:authenticated`, `system:unauthenticated`) or restrict it with a condition (`aws:PrincipalOrgID`, `aws:SourceVpce`); rotate the secrets it exposed.",
        controls: &[
            "Prowler secretsmanager_not_publicly_accessible",
            "CIS Kubernetes 5.1.2 (minimize access to secrets)",
            "PCI DSS 4.0.1 7.2.1",
        ],
    },
    CheckDef {
        id: CheckId::Prv004,
        title: "Another account can read without a condition",
        severity: Severity::High,
        review: false,
        fix: "Name the exact role of the other account instead of its root, and add a condition (`aws:PrincipalOrgID`, `aws:SourceAccount`) so only the intended workload can use the grant.",
        controls: &[
            "NIST SP 800-53 AC-6 (least privilege)",
            "PCI DSS 4.0.1 7.2.1",
        ],
    },
    CheckDef {
        id: CheckId::Prv005,
        title: "Allow with NotAction, NotResource or NotPrincipal",
        severity: Severity::High,
        review: false,
        fix: "Rewrite the statement as an allow list (`Action`, `Resource`, `Principal`): an Allow with `Not…` grants everything not listed, including actions and resources added later.",
        controls: &["NIST SP 800-53 AC-6 (least privilege)"],
    },
    CheckDef {
        id: CheckId::Prv006,
        title: "Full administrative access",
        severity: Severity::Critical,
        review: false,
        fix: "Remove `\"Action\": \"*\"` on `\"*\"` (AWS), bindings of `*` verbs on `*` resources outside `system:masters` (Kubernetes), `sudo` and the `root` policy outside break-glass procedures (Vault), subscription-wide Key Vault Administrator (Azure); grant the specific actions each workload needs.",
        controls: &[
            "CIS AWS Foundations v3.0 1.16 (no IAM policies with full \"*:*\" administrative privileges)",
            "Security Hub IAM.1",
            "AWS Config iam-policy-no-statements-with-admin-access",
            "CIS Kubernetes 5.1.1 (cluster-admin only where required), 5.1.3 (minimize wildcards)",
        ],
    },
    CheckDef {
        id: CheckId::Prv007,
        title: "Secret read granted to a default service account",
        severity: Severity::High,
        review: false,
        fix: "Give the workload its own service account and grant the secrets to that account; leave the default service account without permissions (Kubernetes `automountServiceAccountToken: false`).",
        controls: &[
            "CIS Kubernetes 5.1.5 (default service accounts are not actively used)",
            "CIS Kubernetes 5.1.2 (minimize access to secrets)",
        ],
    },
    CheckDef {
        id: CheckId::Prv008,
        title: "Can read more secrets than the audit logs show it using",
        severity: Severity::Info,
        review: true,
        fix: "Review the grant against the secrets the principal actually reads (listed): remove the ones it never uses, or confirm that they are needed (rarely-run jobs, failover).",
        controls: &[
            "NIST SP 800-53 AC-6(7) (review of user privileges)",
            "PCI DSS 4.0.1 7.2.4",
        ],
    },
    CheckDef {
        id: CheckId::Mch001,
        title: "IAM user access key used by a workload",
        severity: Severity::High,
        review: false,
        fix: "Give the workload a role instead of a user's key (an EC2 instance profile, an ECS task role, the Lambda execution role; IAM Roles Anywhere or OIDC federation outside AWS), remove the key from the workload's configuration, then deactivate and delete it (`aws iam update-access-key --status Inactive`, `aws iam delete-access-key`).",
        controls: &[
            "CIS AWS Foundations v3.0 1.18 (IAM instance roles for access from instances)",
            "AWS Well-Architected SEC02-BP02 (use temporary credentials)",
            "PCI DSS 4.0.1 8.6.2 (no hard-coded credentials for system accounts)",
        ],
    },
    CheckDef {
        id: CheckId::Mch002,
        title: "Vault token that never expires",
        severity: Severity::High,
        review: false,
        fix: "Issue machine tokens with a TTL (the auth role's `token_ttl` and `token_max_ttl`, `vault token create -ttl`); revoke root tokens as soon as the task that needed one is done (`vault token revoke -accessor ACCESSOR`) and generate one only when needed (`vault operator generate-root`).",
        controls: &[
            "HashiCorp Vault production hardening (revoke root tokens, short TTLs)",
            "NIST SP 800-53 AC-12 (session termination)",
            "PCI DSS 4.0.1 8.6.3 (system account credentials protected against misuse)",
        ],
    },
    CheckDef {
        id: CheckId::Mch003,
        title: "Vault token TTL longer than max_token_ttl_hours",
        severity: Severity::Medium,
        review: false,
        fix: "Lower the TTL where the tokens are issued (the auth role's `token_ttl` and `token_max_ttl`, or the auth mount's `max-lease-ttl` with `vault auth tune`) to at most `[machine] max_token_ttl_hours`, and let clients renew or log in again.",
        controls: &[
            "HashiCorp Vault production hardening (short TTLs)",
            "NIST SP 800-53 AC-12 (session termination)",
        ],
    },
    CheckDef {
        id: CheckId::Mgr001,
        title: "Key Vault soft delete disabled",
        severity: Severity::High,
        review: false,
        fix: "Turn soft delete on (`az keyvault update --name VAULT --enable-soft-delete true`), so that a deleted vault or secret can be recovered during its retention period.",
        controls: &[
            "CIS Azure 8.5 (Key Vault is recoverable)",
            "Azure Policy: Key vaults should have soft delete enabled",
        ],
    },
    CheckDef {
        id: CheckId::Mgr002,
        title: "Key Vault purge protection disabled",
        severity: Severity::Medium,
        review: false,
        fix: "Turn purge protection on (`az keyvault update --name VAULT --enable-purge-protection true`; it cannot be turned off again), so that no one can purge a deleted vault or secret before its retention period ends.",
        controls: &[
            "CIS Azure 8.5 (Key Vault is recoverable)",
            "Azure Policy: Key vaults should have deletion protection enabled",
        ],
    },
    CheckDef {
        id: CheckId::Mgr003,
        title: "Key Vault reachable from any network",
        severity: Severity::Medium,
        review: false,
        fix: "Disable public network access (`az keyvault update --name VAULT --public-network-access Disabled`) and reach the vault through a private endpoint, or deny by default and allow named networks (`az keyvault update --name VAULT --default-action Deny`, `az keyvault network-rule add`).",
        controls: &[
            "Azure Policy: Azure Key Vault should disable public network access",
            "Azure Policy: Azure Key Vault should have firewall enabled",
            "CIS Azure 8.7 (private endpoints for Key Vault)",
        ],
    },
    CheckDef {
        id: CheckId::Mgr004,
        title: "Encrypted with the provider's key where the class requires a customer key",
        severity: Severity::Medium,
        review: false,
        fix: "Encrypt the secret with a customer-managed key whose key policy limits who may decrypt (AWS: `aws secretsmanager update-secret --secret-id ID --kms-key-id KEY`; GCP: a new secret with `--kms-key-name`), then rotate it so that no version remains under the provider's key.",
        controls: &[
            "AWS Config secretsmanager-using-cmk",
            "NIST SP 800-53 SC-12 (key management), SC-28 (protection at rest)",
        ],
    },
    CheckDef {
        id: CheckId::Mgr005,
        title: "Vault has no audit device",
        severity: Severity::High,
        review: false,
        fix: "Enable an audit device that keeps its records (`vault audit enable file file_path=/var/log/vault/audit.log`), preferably two (Vault stops answering when no device can record a request), and ship the log off the server.",
        controls: &[
            "HashiCorp Vault production hardening (enable auditing)",
            "NIST SP 800-53 AU-2, AU-12 (event logging)",
            "PCI DSS 4.0.1 10.2.1 (audit logs enabled)",
        ],
    },
    CheckDef {
        id: CheckId::Mgr006,
        title: "Missing a tag the class requires",
        severity: Severity::Low,
        review: false,
        fix: "Tag the secret with every key its class lists in `required_tags` (AWS tags, GCP labels, Azure tags, Vault custom_metadata, Kubernetes labels, the generic `owner` column), so that each secret has someone accountable for it.",
        controls: &[
            "Security Hub SecretsManager.5 (secrets should be tagged)",
            "AWS Config required-tags",
            "PCI DSS 4.0.1 12.5.1 (inventory of system components)",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_back_and_unknown_ones_suggest_the_nearest() {
        for c in CheckId::ALL {
            assert_eq!(c.as_str().parse::<CheckId>(), Ok(*c));
            assert_eq!(c.def().id, *c);
        }
        let e = "ROT-03".parse::<CheckId>().unwrap_err();
        assert_eq!(e.nearest, Some(CheckId::Rot003));
        assert!(e.to_string().contains("did you mean ROT-003?"), "{e}");
        assert_eq!(
            "rot-005".parse::<CheckId>().unwrap_err().nearest,
            Some(CheckId::Rot005)
        );
        assert_eq!(
            "LEAK001".parse::<CheckId>().unwrap_err().nearest,
            Some(CheckId::Leak001)
        );
        assert_eq!("rotation".parse::<CheckId>().unwrap_err().nearest, None);
        assert_eq!(format!("{:<9}|", CheckId::Acc001), "ACC-001  |");
    }
}
