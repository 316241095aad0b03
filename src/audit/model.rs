//! The normalised view every parser produces: inventory items, log events, leaks.

use std::collections::BTreeMap;

use super::time::Secs;

/// Where a record came from: input file (as given) and 1-based line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loc {
    /// The input's path as given on the command line; `stdin` for standard input.
    pub file: String,
    /// 1-based; 0 where the location is the whole input.
    pub line: usize,
}

/// What a result is about: an inventory item's source kind, or one of the subjects that
/// come from elsewhere (a secret only the logs know, a leak, an access grant).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An IAM user's access key (`aws iam list-access-keys`, the credential report).
    IamAccessKey,
    /// An AWS Secrets Manager secret.
    AwsSecret,
    /// A Vault KV secret (v1 or v2).
    VaultKv,
    /// A GCP Secret Manager secret.
    GcpSecret,
    /// An Azure Key Vault secret.
    AzureSecret,
    /// A Kubernetes Secret.
    K8sSecret,
    /// A GCP user-managed service-account key (`gcloud iam service-accounts keys list`).
    GcpServiceAccountKey,
    /// A client secret of an Entra ID application (`az ad app credential list`).
    AzureClientSecret,
    /// A generic inventory row whose `kind` column names no other kind.
    #[default]
    Generic,
    /// A secret named by the audit logs but in no inventory.
    LogOnly,
    /// A leaked credential that matches no inventory entry.
    Leak,
    /// A grant in an access-policy export (PRV, SEP-002 results).
    AccessGrant,
    /// A principal named by the audit logs (root and break-glass uses).
    Principal,
    /// An Azure Key Vault's own settings (MGR results).
    KeyVault,
    /// A Vault server's audit devices (MGR results).
    VaultServer,
    /// Vault tokens of one display name, from the audit log (MCH results).
    VaultToken,
}

impl Kind {
    /// The kinds an inventory item can have (the keys of `[classification.by_kind]`).
    pub const INVENTORY: [Kind; 9] = [
        Kind::IamAccessKey,
        Kind::AwsSecret,
        Kind::VaultKv,
        Kind::GcpSecret,
        Kind::AzureSecret,
        Kind::K8sSecret,
        Kind::GcpServiceAccountKey,
        Kind::AzureClientSecret,
        Kind::Generic,
    ];

    /// The kind as reports, `[classification.by_kind]` and the generic `kind` column
    /// name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::IamAccessKey => "iam_access_key",
            Kind::AwsSecret => "aws_secret",
            Kind::VaultKv => "vault_kv",
            Kind::GcpSecret => "gcp_secret",
            Kind::AzureSecret => "azure_secret",
            Kind::K8sSecret => "k8s_secret",
            Kind::GcpServiceAccountKey => "gcp_service_account_key",
            Kind::AzureClientSecret => "azure_client_secret",
            Kind::Generic => "generic",
            Kind::LogOnly => "log_only",
            Kind::Leak => "leak",
            Kind::AccessGrant => "access_grant",
            Kind::Principal => "principal",
            Kind::KeyVault => "azure_key_vault",
            Kind::VaultServer => "vault_server",
            Kind::VaultToken => "vault_token",
        }
    }

    /// An inventory kind by name (`aws_secret`); None for anything else.
    pub fn inventory(name: &str) -> Option<Kind> {
        Kind::INVENTORY.into_iter().find(|k| k.as_str() == name)
    }

    /// The provider whose audit logs record this kind's use.
    pub fn provider(self) -> Option<Provider> {
        match self {
            Kind::AwsSecret | Kind::IamAccessKey => Some(Provider::Aws),
            Kind::VaultKv => Some(Provider::Vault),
            Kind::GcpSecret => Some(Provider::Gcp),
            Kind::AzureSecret => Some(Provider::Azure),
            _ => None,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What the provider records about use of a secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Usage {
    /// The export says nothing about use (Vault KV, GCP, Azure, Kubernetes).
    #[default]
    Untracked,
    /// The provider tracks use and reports none since creation.
    Never,
    /// Last use (day-granular at best).
    At(Secs),
}

/// A secret value that was present in an input (never kept; only where and its fingerprint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueSighting {
    /// Where in the record the value was (`SecretString`, `data.password`).
    pub field: String,
    /// The value's fingerprint; None when it has none (see `note`).
    pub fingerprint: Option<String>,
    /// Why the value has no fingerprint, or how it was read (not strict base64).
    pub note: Option<String>,
    /// The record that held it.
    pub loc: Loc,
}

/// Which key encrypts a secret at rest, where the export says (AWS `KmsKeyId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsKey {
    /// The provider's own key (AWS `aws/secretsmanager`: `KmsKeyId` absent or that alias).
    ProviderManaged,
    /// A key the customer manages, by the id or ARN the export gives.
    Customer(String),
}

/// One secret or credential from an inventory export.
#[derive(Debug, Clone, Default)]
pub struct Item {
    /// Canonical id (ARN, `aws-iam-key:…`, `vault:…`, `projects/…`, Azure URL, `k8s:…`, generic id).
    pub id: String,
    /// The name people know it by; empty, or the id, where the export gives none.
    pub name: String,
    /// Free-text description from the store (classification signal; AWS `Description`).
    pub description: Option<String>,
    /// The service that manages the secret (AWS `OwningService`, e.g. `rds`).
    pub owning_service: Option<String>,
    /// Source kind (one of [`Kind::INVENTORY`]).
    pub kind: Kind,
    /// Where its record is in the inputs (after a merge, the full record's).
    pub loc: Loc,
    /// Only version data (GCP/Azure version lists): merged into the full item when present.
    pub partial: bool,
    /// Tags or labels as exported, names as written.
    pub tags: BTreeMap<String, String>,
    /// The export lists the secret's tags, so a tag it lacks is absent (AWS listings,
    /// GCP labels, Azure tags, Vault custom_metadata, Kubernetes labels, generic rows);
    /// false where the export cannot say (AWS get-secret-value output, keys, credentials).
    pub tags_known: bool,
    /// The environment the inventory states (generic `environment` or `env`); None leaves it
    /// to the policy (tags, then the id and name).
    pub environment: Option<String>,
    /// The service the secret belongs to, as the inventory says (generic `service`).
    pub service: Option<String>,
    /// Who owns it: the generic `owner` column, else an `owner` tag.
    pub owner: Option<String>,
    /// Class declared by the inventory itself (generic `class` column).
    pub declared_class: Option<String>,
    /// When it was created; None when the export does not say.
    pub created: Option<Secs>,
    /// Rotation evidence from metadata (never the creation date).
    pub last_rotated: Option<Secs>,
    /// Which field or event `last_rotated` comes from, for messages.
    pub rotated_source: Option<String>,
    /// Creation of the current version (AWS get-secret-value `CreatedDate`): the age of the
    /// value in use, not of the secret.
    pub version_created: Option<Secs>,
    /// The store keeps a previous version (AWS `AWSPREVIOUS` stage): rotated at least once.
    pub has_previous_version: bool,
    /// What the store records about its use.
    pub usage: Usage,
    /// When it expires; None when no expiry is set or the export does not say.
    pub expires: Option<Secs>,
    /// Start of validity (Azure `nbf`; a service-account key's or client secret's creation).
    pub not_before: Option<Secs>,
    /// Active / enabled (false for inactive IAM keys, disabled Azure secrets).
    pub enabled: bool,
    /// Deletion (scheduled or done) known from metadata.
    pub deleted: Option<Secs>,
    /// The provider can rotate it automatically (AWS SM, GCP rotation schedule, generic column).
    pub rotation_supported: bool,
    /// Automatic rotation is on; None when the export does not say.
    pub rotation_enabled: Option<bool>,
    /// The automatic rotation interval, in days (fractional where the provider gives seconds).
    pub rotation_interval_days: Option<f64>,
    /// The next automatic rotation the provider has scheduled.
    pub next_rotation: Option<Secs>,
    /// The provider has an expiry attribute for it.
    pub expiry_supported: bool,
    /// The provider refuses the credential once it has expired (GCP service-account keys,
    /// Entra client secrets): an expired one is dead, not a live risk.
    pub expiry_enforced: bool,
    /// The key that encrypts it at rest; None when the export does not say.
    pub kms_key: Option<KmsKey>,
    /// Value fingerprints the inventory gives (a fingerprint tag, the generic `fingerprint`
    /// column), normalised: they tie it to leaks and to other secrets with the same value.
    pub fingerprints: Vec<String>,
    /// Provider key id in clear (AWS AccessKeyId).
    pub key_id: Option<String>,
    /// Owning principal (IAM user) for per-principal checks.
    pub principal: Option<String>,
    /// Other names logs may use for it (AWS name, partial ARN, …), normalised.
    pub aliases: Vec<String>,
    /// Secret values the export itself held (INV-001): where, and their fingerprints.
    pub values_seen: Vec<ValueSighting>,
    /// Version creation dates (time, enabled): rotation evidence computed at merge.
    pub versions: Vec<(Secs, bool)>,
    /// Credential-report slot (user, N) for joining with list-access-keys.
    pub cred_slot: Option<(String, u8)>,
    /// Things the reader had to work around (lossy decoding, undecodable values), reported
    /// as input notes.
    pub notes: Vec<String>,
}

impl Item {
    /// An enabled item with only its id, kind and location; the parser fills in the rest.
    pub fn new(id: impl Into<String>, kind: Kind, loc: Loc) -> Item {
        Item {
            id: id.into(),
            kind,
            loc,
            enabled: true,
            ..Item::default()
        }
    }

    /// Fills what `self` lacks from another record of the same secret.
    pub fn merge(&mut self, o: Item) {
        if self.partial && !o.partial {
            let mut o = o;
            std::mem::swap(self, &mut o);
            self.merge(o);
            return;
        }
        if self.name.is_empty() {
            self.name = o.name;
        }
        self.description = self.description.take().or(o.description);
        self.owning_service = self.owning_service.take().or(o.owning_service);
        self.version_created = self.version_created.max(o.version_created);
        self.has_previous_version |= o.has_previous_version;
        for (k, v) in o.tags {
            self.tags.entry(k).or_insert(v);
        }
        self.tags_known |= o.tags_known;
        self.environment = self.environment.take().or(o.environment);
        self.service = self.service.take().or(o.service);
        self.owner = self.owner.take().or(o.owner);
        self.declared_class = self.declared_class.take().or(o.declared_class);
        self.created = min_opt(self.created, o.created);
        if o.last_rotated > self.last_rotated {
            self.last_rotated = o.last_rotated;
            self.rotated_source = o.rotated_source;
        }
        self.usage = match (self.usage, o.usage) {
            (Usage::At(a), Usage::At(b)) => Usage::At(a.max(b)),
            (Usage::At(a), _) | (_, Usage::At(a)) => Usage::At(a),
            (Usage::Never, _) | (_, Usage::Never) => Usage::Never,
            _ => Usage::Untracked,
        };
        self.expires = self.expires.or(o.expires);
        self.not_before = self.not_before.or(o.not_before);
        if !o.partial {
            self.enabled = self.enabled && o.enabled;
        }
        self.deleted = self.deleted.or(o.deleted);
        self.rotation_supported |= o.rotation_supported;
        self.rotation_enabled = self.rotation_enabled.or(o.rotation_enabled);
        self.rotation_interval_days = self.rotation_interval_days.or(o.rotation_interval_days);
        self.next_rotation = self.next_rotation.or(o.next_rotation);
        self.expiry_supported |= o.expiry_supported;
        self.expiry_enforced |= o.expiry_enforced;
        self.kms_key = self.kms_key.take().or(o.kms_key);
        for fp in o.fingerprints {
            if !self.fingerprints.contains(&fp) {
                self.fingerprints.push(fp);
            }
        }
        self.key_id = self.key_id.take().or(o.key_id);
        self.principal = self.principal.take().or(o.principal);
        for a in o.aliases {
            if !self.aliases.contains(&a) {
                self.aliases.push(a);
            }
        }
        self.values_seen.extend(o.values_seen);
        self.versions.extend(o.versions);
        self.cred_slot = self.cred_slot.take().or(o.cred_slot);
        self.notes.extend(o.notes);
    }

    /// Rotation evidence from the current version's creation (AWS get-secret-value): it is a
    /// rotation when the secret is older than that version, or when a previous version exists.
    /// Without the secret's creation date it is still the age of the value in use.
    pub fn apply_version_created(&mut self) {
        let Some(v) = self.version_created else {
            return;
        };
        if self.last_rotated.is_some_and(|r| r >= v) {
            return;
        }
        let newer = self.created.is_some_and(|c| v > c + 60);
        if newer || self.has_previous_version {
            self.last_rotated = Some(v);
            self.rotated_source = Some("current version's CreatedDate (get-secret-value)".into());
        } else if self.created.is_none() {
            self.last_rotated = Some(v);
            self.rotated_source = Some(
                "current version's CreatedDate (get-secret-value; the secret's creation date is not in the inputs)"
                    .into(),
            );
        }
    }

    /// Rotation evidence from versions: the newest enabled version, when an older one exists.
    pub fn apply_versions(&mut self) {
        if self.versions.len() < 2 {
            return;
        }
        let oldest = self.versions.iter().map(|v| v.0).min();
        let newest_enabled = self.versions.iter().filter(|v| v.1).map(|v| v.0).max();
        if let (Some(o), Some(n)) = (oldest, newest_enabled)
            && n > o
            && Some(n) > self.last_rotated
        {
            self.last_rotated = Some(n);
            self.rotated_source = Some("newest enabled version".into());
        }
    }
}

fn min_opt(a: Option<Secs>, b: Option<Secs>) -> Option<Secs> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Whose audit logs an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// AWS CloudTrail.
    Aws,
    /// HashiCorp Vault (its audit devices).
    Vault,
    /// GCP Cloud Audit Logs (Secret Manager).
    Gcp,
    /// Azure Key Vault diagnostic logs.
    Azure,
}

impl Provider {
    /// The provider's name in reports and JSON (`aws`).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Vault => "vault",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
        }
    }
}

/// What a logged call did to a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reading the value (GetSecretValue, AccessSecretVersion, SecretGet, KV read).
    Read,
    /// A new value (PutSecretValue, AddSecretVersion, SecretSet, KV write).
    Write,
    /// Creating the secret (CreateSecret); a later one undoes a deletion.
    Create,
    /// A rotation the provider ran to its end (AWS `RotationSucceeded`).
    RotationSucceeded,
    /// A rotation that failed or was abandoned (AWS `RotationFailed`, `RotationAbandoned`).
    RotationFailed,
    /// Deleting the secret, scheduled or done (DeleteSecret, SecretPurge, Vault destroy).
    Delete,
    /// Undoing a deletion (RestoreSecret, SecretRecover, Vault undelete).
    Restore,
    /// Anything else on the secret (describe, tag, list).
    Other,
}

/// How a logged call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessOutcome {
    /// It succeeded.
    Ok,
    /// Refused for lack of permission (AWS `AccessDenied`, HTTP 401 or 403, GCP
    /// `PERMISSION_DENIED`, Vault `permission denied`).
    Denied,
    /// Failed for another reason (not found, invalid request, throttled).
    Failed,
}

/// One audit-log event reduced to what the checks need.
#[derive(Debug, Clone)]
pub struct Event {
    /// When the call was made.
    pub time: Secs,
    /// Whose log it is in.
    pub provider: Provider,
    /// Secret reference as the log names it (normalised per provider).
    pub secret: Option<String>,
    /// What the call did.
    pub action: Action,
    /// How it ended.
    pub outcome: AccessOutcome,
    /// Who made the call as the log names them (an ARN, an email, a Vault display name); the
    /// caller's address where the log names no one.
    pub principal: Option<String>,
    /// Access key that signed the call (CloudTrail `userIdentity.accessKeyId`).
    pub key_id: Option<String>,
    /// The call as logged (`GetSecretValue`, `SecretGet`, Vault `read kv/data/app`), for messages.
    pub name: String,
    /// The error or result text the log gives, when any.
    pub message: Option<String>,
    /// A read that selects secrets by filter (CloudTrail BatchGetSecretValue `filters`)
    /// instead of naming them: (key, values) pairs, all of which must match.
    pub filters: Vec<SecretFilter>,
    /// Where the call came from as the log says it: an IP address (CloudTrail
    /// `sourceIPAddress`, Vault `request.remote_address`, GCP `callerIp`, Azure
    /// `callerIpAddress`) or the AWS service that made it (`lambda.amazonaws.com`).
    pub source: Option<String>,
    /// Made with root credentials: a Vault root token (`auth.policies` holding `root`, or a
    /// token type or display name `root`) or the AWS account's root user.
    pub root: bool,
    /// Why the call comes from a workload (an SDK on Lambda or ECS, a workload address),
    /// when it was signed with a long-term IAM user key (MCH-001); None otherwise.
    pub workload: Option<Box<str>>,
}

/// One Secrets Manager filter: `key` (`name`, `description`, `tag-key`, `tag-value`,
/// `owning-service`, `primary-region`, `all`) and the values it accepts (`!` negates).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretFilter {
    /// What the filter tests (`name`, `tag-key`, …).
    pub key: String,
    /// The values it accepts.
    pub values: Vec<String>,
}

/// A secrets manager's own settings, from an export of the store itself rather than of
/// its secrets (MGR checks).
#[derive(Debug, Clone)]
pub struct Store {
    /// Canonical id: the Key Vault's resource id, `vault:sys/audit` for a Vault server.
    pub id: String,
    /// As people know it: the Key Vault's name, `Vault audit devices` for a Vault server.
    pub name: String,
    /// [`Kind::KeyVault`] or [`Kind::VaultServer`].
    pub kind: Kind,
    /// Where the settings record is in the inputs.
    pub loc: Loc,
    /// What the export says.
    pub settings: StoreSettings,
}

/// A store's settings as its export gives them, per kind of store.
#[derive(Debug, Clone)]
pub enum StoreSettings {
    /// `az keyvault show`: `properties.*`. Each field is None where the export does not
    /// say (so a hand-written or trimmed export is judged only on what it holds).
    KeyVault {
        /// `enableSoftDelete`; null (vaults from before soft delete was enforced, which
        /// Azure has since turned on) is None.
        soft_delete: Option<bool>,
        /// `enablePurgeProtection`; `az` prints null until it is turned on: Some(false).
        purge_protection: Option<bool>,
        /// `softDeleteRetentionInDays`: days a deleted secret stays recoverable.
        retention_days: Option<i64>,
        /// Reachable from any network: `publicNetworkAccess` not `Disabled` (absent means
        /// Azure's default, `Enabled`) and no firewall denying by default (`networkAcls`
        /// null, or its `defaultAction` `Allow`). None when the export has neither field.
        public: Option<bool>,
        /// `publicNetworkAccess` as exported, for messages.
        public_network_access: Option<String>,
        /// `networkAcls.defaultAction` as exported, for messages.
        default_action: Option<String>,
        /// `enableRbacAuthorization`: access by Azure RBAC rather than by vault access policies.
        rbac: Option<bool>,
    },
    /// `vault audit list -format=json`: every enabled device as (path, type, where it
    /// writes: `file_path` and the like).
    VaultAudit {
        /// Every device the export lists; empty when none is enabled.
        devices: Vec<AuditDevice>,
    },
}

/// One enabled Vault audit device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDevice {
    /// Where it is enabled (`file/`).
    pub path: String,
    /// Its type: `file`, `syslog`, `socket`.
    pub kind: String,
    /// The file device's `file_path` (or `path`) option; `discard` keeps nothing.
    pub target: Option<String>,
}

/// A leak reported by the scanner.
#[derive(Debug, Clone)]
pub struct Leak {
    /// The value's fingerprint, normalised; None when the finding gives only a key id.
    pub fingerprint: Option<String>,
    /// The non-secret key id found with it (an AWS access key id), in clear.
    pub key_id: Option<String>,
    /// When it leaked: the introducing commit's author date, else the scan time; None when
    /// the findings give neither.
    pub time: Option<Secs>,
    /// The id of the rule that found it.
    pub rule_id: String,
    /// The file it was found in, as the scan reports it.
    pub path: String,
    /// 1-based line in that file; 0 when the finding gives none.
    pub line: u64,
    /// The rule's name (`AWS secret access key`): what kind of credential leaked.
    pub rule_name: String,
    /// The commit that introduced it (history scans).
    pub commit: Option<String>,
    /// Where the finding is in the findings input.
    pub loc: Loc,
}
