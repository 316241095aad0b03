//! Real-world leak shapes: one small file per credential-file or configuration format, written
//! from each format's own documentation (never from another tool's test files), with every
//! value generated from a seed at test time, so no secret-looking file is committed and the
//! project's own scan stays clean.
//!
//! A template is the file's text with two marks the generator strips:
//! - a line starting with `@|` holds a credential (the label the scorer counts against);
//! - `«slot»` is replaced by a generated value of that kind (see `Gen::slot`).
//!
//! Decoy files (templates such as `.env.example`, documentation with placeholders, files
//! encrypted at rest with SOPS or Ansible Vault) carry no `@|` line: any finding in them is
//! a flagged line beyond the labelled ones.
#![allow(dead_code)]

use crate::corpus::{ALNUM, B64, HEX, Rng, pem};
use base64::Engine as _;

/// One generated file: its path, text, and the 1-based lines that hold a credential.
pub struct ShapeFile {
    pub format: &'static str,
    pub path: String,
    pub text: String,
    pub labelled: Vec<usize>,
}

/// Weak and textbook passwords as real credential files hold them: the issue's point is that
/// in a `.pgpass` or a production `wp-config.php` these are real passwords to real databases.
const WEAK: &[&str] = &[
    "pass123",
    "hunter22",
    "admin",
    "admin123",
    "root",
    "toor",
    "qwerty123",
    "letmein",
    "welcome1",
    "Summer2024!",
    "dbpass",
    "s3cr3t",
    "postgres",
    "mysql",
    "P@ssw0rd",
];

const USERS: &[&str] = &[
    "deploy",
    "ci",
    "app",
    "backup",
    "ops",
    "svc_reports",
    "jenkins",
];

const CRYPT: &str = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// WordPress's secret-key service draws from letters, digits and this punctuation (no quotes
/// or backslash, which would end the PHP string).
const WP: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|";
/// Django's get_random_secret_key() alphabet.
const DJANGO: &str = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
/// Passwords people choose: letters and digits with the punctuation that survives URLs,
/// INI, XML and shell quoting unescaped.
const PW: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!-_.*";
const UPHEX: &str = "0123456789ABCDEF";

struct Gen<'a> {
    r: &'a mut Rng,
}

impl Gen<'_> {
    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn weak(&mut self) -> String {
        self.r.pick(WEAK).to_string()
    }

    /// A chosen password. It starts with a letter or digit: YAML reads an unquoted value
    /// opening with `*`, `!` or `-` as an alias, a tag or a list, so such a password is
    /// written quoted there.
    fn pw(&mut self) -> String {
        let n = 12 + self.r.below(8);
        let first = self.r.s(ALNUM, 1);
        first + &self.r.s(PW, n - 1)
    }

    /// A password that is weak half the time.
    fn any_pw(&mut self) -> String {
        if self.r.below(2) == 0 {
            self.weak()
        } else {
            self.pw()
        }
    }

    fn jwt(&mut self) -> String {
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let h = url.encode(br#"{"alg":"RS256","kid":"k1"}"#);
        let p = url.encode(
            format!(
                r#"{{"iss":"kubernetes/serviceaccount","sub":"system:serviceaccount:ci:{}","iat":{}}}"#,
                self.r.pick(USERS),
                1_700_000_000 + self.r.below(50_000_000)
            )
            .as_bytes(),
        );
        format!("{h}.{p}.{}", self.r.s(ALNUM, 86))
    }

    /// The value for `«slot»`; `kind:N` slots take a length.
    fn slot(&mut self, slot: &str) -> String {
        let (kind, n) = match slot.split_once(':') {
            Some((k, n)) => (k, n.parse::<usize>().unwrap_or(16)),
            None => (slot, 0),
        };
        let r = &mut *self.r;
        match kind {
            "pw" => self.pw(),
            "weak" => self.weak(),
            "anypw" => self.any_pw(),
            "user" => r.pick(USERS).to_string(),
            "alnum" => r.s(ALNUM, n),
            "hex" => r.s(HEX, n),
            "uphex" => r.s(UPHEX, n),
            "b64" => r.s(B64, n),
            "lower" => r.s("abcdefghijklmnopqrstuvwxyz0123456789", n),
            "basic" => {
                let (u, p) = (r.pick(USERS).to_string(), self.any_pw());
                Self::b64(format!("{u}:{p}").as_bytes())
            }
            "b64pw" => {
                let p = self.any_pw();
                Self::b64(p.as_bytes())
            }
            "b64strong" => {
                let p = self.pw();
                Self::b64(p.as_bytes())
            }
            "bcrypt" => format!("$2y$10${}", r.s(CRYPT, 53)),
            "sha512crypt" => format!("$6${}${}", r.s(CRYPT, 16), r.s(CRYPT, 86)),
            "apr1" => format!("$apr1${}${}", r.s(CRYPT, 8), r.s(CRYPT, 22)),
            "ssha" => format!("{{SSHA}}{}", Self::b64(r.s(ALNUM, 24).as_bytes())),
            "akia" => format!("AKIA{}", r.s(crate::corpus::UP32, 16)),
            "aws_secret" => r.s(B64, 40),
            "aws_session" => format!("IQoJb3JpZ2luX2Vj{}", r.s(B64, 300)),
            "wpkey" => r.s(WP, 64),
            "django" => r.s(DJANGO, 50),
            "npm" => {
                keywarden::engine::filters::validate::make_base62_crc32("npm_", &r.s(ALNUM, 30))
            }
            "ghp" => {
                keywarden::engine::filters::validate::make_base62_crc32("ghp_", &r.s(ALNUM, 30))
            }
            "glpat" => format!("glpat-{}", r.s(crate::corpus::URLSAFE, 20)),
            "sk_live" => format!("sk_live_{}", r.s(ALNUM, 99)),
            "jwt" => self.jwt(),
            "laravel" => format!("base64:{}=", r.s(B64, 43)),
            "rsa" => pem(r, "RSA PRIVATE KEY", 1624, "MIIEpAIBAAKCAQEA"),
            "rsa_escaped" => {
                pem(r, "RSA PRIVATE KEY", 1624, "MIIEpAIBAAKCAQEA").replace('\n', "\\n")
            }
            "rsa_b64" => Self::b64(pem(r, "RSA PRIVATE KEY", 1624, "MIIEpAIBAAKCAQEA").as_bytes()),
            "cert_b64" => Self::b64(pem(r, "CERTIFICATE", 1200, "MIIDdzCCAl+gAwIBAgIE").as_bytes()),
            "jwk_b64" => r.s(crate::corpus::URLSAFE, n.max(43)),
            "uuid" => format!(
                "{}-{}-4{}-a{}-{}",
                r.s(HEX, 8),
                r.s(HEX, 4),
                r.s(HEX, 3),
                r.s(HEX, 3),
                r.s(HEX, 12)
            ),
            "sops" => format!(
                "ENC[AES256_GCM,data:{}=,iv:{}=,tag:{}==,type:str]",
                r.s(B64, 31),
                r.s(B64, 43),
                r.s(B64, 22)
            ),
            "vault_hex" => (0..6)
                .map(|_| r.s("0123456789abcdef", 80))
                .collect::<Vec<_>>()
                .join("\n"),
            other => panic!("unknown slot «{other}»"),
        }
    }
}

/// The formats: (format, path, template). Paths are where the file is found in a repository
/// or a home directory; file-name rules key on them.
const POSITIVE: &[(&str, &str, &str)] = &[
    ("pgpass", "home/.pgpass", "# hostname:port:database:username:password
@|db.prod.internal:5432:orders:app_rw:«pw»
@|localhost:5432:*:postgres:«weak»
"),
    ("netrc", "home/.netrc", "machine api.heroku.com
  login ops@corp.io
@|  password «uuid»
@|machine git.corp.net login «user» password «weak»
"),
    ("git-credentials", "home/.git-credentials", "@|https://«user»:«ghp»@github.com
@|https://deploy:«weak»@gitlab.corp.net
"),
    ("htpasswd", "site/.htpasswd", "@|admin:«apr1»
@|carol:«bcrypt»
@|bob:{SHA}«b64:27»=
"),
    ("shadow", "etc/shadow", "@|root:«sha512crypt»:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
bin:*:19000:0:99999:7:::
@|deploy:«sha512crypt»:19500:0:99999:7:::
nobody:!:19000::::::
"),
    ("my.cnf", "home/.my.cnf", "[client]
user=root
@|password=«weak»
host=localhost

[mysqldump]
user=backup
@|password=\"«pw»\"
"),
    ("s3cfg", "home/.s3cfg", "[default]
@|access_key = «akia»
@|secret_key = «aws_secret»
host_base = s3.amazonaws.com
host_bucket = %(bucket)s.s3.amazonaws.com
use_https = True
"),
    ("aws-credentials", "home/.aws/credentials", "[default]
@|aws_access_key_id = «akia»
@|aws_secret_access_key = «aws_secret»

[prod]
@|aws_access_key_id = «akia»
@|aws_secret_access_key = «aws_secret»
@|aws_session_token = «aws_session»
"),
    ("boto", "home/.boto", "[Credentials]
@|aws_access_key_id = «akia»
@|aws_secret_access_key = «aws_secret»
gs_access_key_id = GOOG1E«uphex:30»
@|gs_secret_access_key = «b64:40»

[Boto]
https_validate_certificates = True
"),
    ("pypirc", "home/.pypirc", "[distutils]
index-servers =
    pypi
    private

[pypi]
username = __token__
@|password = pypi-AgEIcHlwaS5vcmc«lower:120»

[private]
repository = https://pypi.corp.net/
username = ci
@|password = «weak»
"),
    ("npmrc", "app/.npmrc", "registry=https://registry.npmjs.org/
@|//registry.npmjs.org/:_authToken=«npm»
@|//npm.corp.net/:_auth=«basic»
//nexus.corp.net/repository/npm/:username=ci
@|//nexus.corp.net/repository/npm/:_password=«b64pw»
always-auth=true
"),
    ("pip.conf", "home/.config/pip/pip.conf", "[global]
timeout = 60
@|index-url = https://ci:«weak»@pypi.corp.net/simple
@|extra-index-url = https://__token__:«alnum:24»@nexus.corp.net/repository/pypi/simple
"),
    ("gem-credentials", "home/.gem/credentials", "---
@|:rubygems_api_key: rubygems_«hex:48»
"),
    ("maven-settings", "home/.m2/settings.xml", "<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">
  <servers>
    <server>
      <id>releases</id>
      <username>deploy</username>
@|      <password>«pw»</password>
    </server>
    <server>
      <id>snapshots</id>
      <username>ci</username>
@|      <password>«weak»</password>
    </server>
    <server>
      <id>siteServer</id>
      <privateKey>${user.home}/.ssh/id_dsa</privateKey>
@|      <passphrase>«pw»</passphrase>
    </server>
  </servers>
</settings>
"),
    ("gradle.properties", "home/.gradle/gradle.properties", "org.gradle.jvmargs=-Xmx2g
ossrhUsername=deploy
@|ossrhPassword=«pw»
signing.keyId=«uphex:8»
@|signing.password=«weak»
signing.secretKeyRingFile=/home/ci/.gnupg/secring.gpg
@|artifactory_password=«any»
"),
    ("docker-config", "home/.docker/config.json", "{
  \"auths\": {
    \"https://index.docker.io/v1/\": {
@|      \"auth\": \"«basic»\"
    },
    \"registry.corp.net\": {
@|      \"auth\": \"«basic»\",
      \"email\": \"ci@corp.net\"
    }
  },
  \"credsStore\": \"desktop\"
}
"),
    ("dockercfg", "home/.dockercfg", "{
  \"registry.corp.net\": {
@|    \"auth\": \"«basic»\",
    \"email\": \"ci@corp.net\"
  }
}
"),
    ("kubeconfig", "home/.kube/config", "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: «cert_b64»
    server: https://10.20.0.1:6443
  name: prod
contexts:
- context:
    cluster: prod
    user: admin
  name: prod
current-context: prod
users:
- name: admin
  user:
    client-certificate-data: «cert_b64»
@|    client-key-data: «rsa_b64»
- name: ci
  user:
@|    token: «jwt»
- name: legacy
  user:
    username: admin
@|    password: «weak»
"),
    ("terraform-state", "infra/terraform.tfstate", "{
  \"version\": 4,
  \"terraform_version\": \"1.6.6\",
  \"serial\": 12,
  \"lineage\": \"«uuid»\",
  \"resources\": [
    {
      \"mode\": \"managed\",
      \"type\": \"aws_db_instance\",
      \"name\": \"main\",
      \"provider\": \"provider[\\\"registry.terraform.io/hashicorp/aws\\\"]\",
      \"instances\": [
        {
          \"schema_version\": 2,
          \"attributes\": {
            \"engine\": \"postgres\",
            \"username\": \"dbadmin\",
@|            \"password\": \"«pw»\",
            \"port\": 5432
          },
          \"sensitive_attributes\": [[{\"type\": \"get_attr\", \"value\": \"password\"}]]
        }
      ]
    },
    {
      \"mode\": \"managed\",
      \"type\": \"aws_iam_access_key\",
      \"name\": \"ci\",
      \"instances\": [
        {
          \"attributes\": {
@|            \"id\": \"«akia»\",
@|            \"secret\": \"«aws_secret»\",
            \"user\": \"ci\"
          }
        }
      ]
    },
    {
      \"mode\": \"managed\",
      \"type\": \"random_password\",
      \"name\": \"redis\",
      \"instances\": [
        {
          \"attributes\": {
            \"length\": 24,
@|            \"result\": \"«pw»\",
            \"special\": true
          }
        }
      ]
    }
  ]
}
"),
    ("ansible-inventory", "inventory/hosts.ini", "[web]
@|web1 ansible_host=10.0.0.5 ansible_user=deploy ansible_password=«weak»
web2 ansible_host=10.0.0.6 ansible_user=deploy

[db:vars]
ansible_user=dba
@|ansible_become_pass=«pw»
"),
    ("dotenv", "api/.env", "APP_ENV=production
PORT=8080
@|DB_PASSWORD=«weak»
@|STRIPE_SECRET_KEY=«sk_live»
@|DATABASE_URL=postgres://app:«pw»@db.internal:5432/app
LOG_LEVEL=info
"),
    ("dotenv-production", "web/.env.production", "NODE_ENV=production
@|SESSION_SECRET=«alnum:40»
@|SMTP_PASSWORD=«anypw»
@|REDIS_URL=redis://:«weak»@cache.internal:6379/0
"),
    ("dotenv-local", "web/.env.local", "NEXT_PUBLIC_API=https://api.corp.net
@|GITHUB_TOKEN=«ghp»
@|ADMIN_PASSWORD=«weak»
"),
    ("wp-config", "wordpress/wp-config.php", "<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp_user' );
@|define( 'DB_PASSWORD', '«weak»' );
define( 'DB_HOST', 'localhost' );
define( 'DB_CHARSET', 'utf8mb4' );

@|define( 'AUTH_KEY',         '«wpkey»' );
@|define( 'SECURE_AUTH_KEY',  '«wpkey»' );
@|define( 'LOGGED_IN_KEY',    '«wpkey»' );
@|define( 'NONCE_KEY',        '«wpkey»' );
@|define( 'AUTH_SALT',        '«wpkey»' );
@|define( 'SECURE_AUTH_SALT', '«wpkey»' );
@|define( 'LOGGED_IN_SALT',   '«wpkey»' );
@|define( 'NONCE_SALT',       '«wpkey»' );

$table_prefix = 'wp_';
define( 'WP_DEBUG', false );
"),
    ("django-settings", "mysite/mysite/settings.py", "from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

@|SECRET_KEY = '«django»'

DEBUG = False

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'mysite',
        'USER': 'mysite',
@|        'PASSWORD': '«weak»',
        'HOST': 'db.internal',
        'PORT': '5432',
    }
}

EMAIL_HOST = 'smtp.corp.net'
EMAIL_HOST_USER = 'noreply@corp.net'
@|EMAIL_HOST_PASSWORD = '«pw»'
"),
    ("rails-secrets", "blog/config/secrets.yml", "development:
@|  secret_key_base: «hex:128»

test:
@|  secret_key_base: «hex:128»

production:
@|  secret_key_base: «hex:128»
"),
    ("rails-master-key", "blog/config/master.key", "@|«hex:32»
"),
    ("rails-database", "blog/config/database.yml", "default: &default
  adapter: postgresql
  encoding: unicode
  pool: 5

production:
  <<: *default
  database: blog_production
  username: blog
@|  password: «weak»
"),
    ("laravel-env", "shop/.env", "APP_NAME=Shop
APP_ENV=production
@|APP_KEY=«laravel»
APP_DEBUG=false

DB_CONNECTION=mysql
DB_HOST=127.0.0.1
DB_DATABASE=shop
DB_USERNAME=shop
@|DB_PASSWORD=«weak»

REDIS_PASSWORD=null
MAIL_USERNAME=shop@corp.net
@|MAIL_PASSWORD=«pw»
"),
    ("spring-properties", "svc/src/main/resources/application.properties", "server.port=8080
spring.datasource.url=jdbc:postgresql://db.internal:5432/orders
spring.datasource.username=orders
@|spring.datasource.password=«weak»
spring.mail.host=smtp.corp.net
@|spring.mail.password=«pw»
@|jwt.secret=«alnum:64»
"),
    ("spring-yaml", "svc/src/main/resources/application-prod.yml", "spring:
  datasource:
    url: jdbc:mysql://db.internal:3306/orders
    username: orders
@|    password: «weak»
  rabbitmq:
    host: mq.internal
    username: orders
@|    password: «pw»
app:
  security:
@|    jwt-secret: «alnum:48»
"),
    ("appsettings", "Api/appsettings.Production.json", "{
  \"ConnectionStrings\": {
@|    \"DefaultConnection\": \"Server=sql.internal;Database=Shop;User Id=sa;Password=«weak»;TrustServerCertificate=True\"
  },
  \"Jwt\": {
    \"Issuer\": \"shop\",
@|    \"Key\": \"«alnum:48»\"
  },
  \"Smtp\": {
    \"User\": \"noreply@corp.net\",
@|    \"Password\": \"«pw»\"
  }
}
"),
    ("web.config", "Site/Web.config", "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<configuration>
  <connectionStrings>
@|    <add name=\"Default\" connectionString=\"Data Source=sql.internal;Initial Catalog=Shop;User ID=shop;Password=«pw»\" providerName=\"System.Data.SqlClient\" />
  </connectionStrings>
  <appSettings>
    <add key=\"SmtpUser\" value=\"noreply@corp.net\" />
@|    <add key=\"SmtpPassword\" value=\"«weak»\" />
  </appSettings>
</configuration>
"),
    ("docker-compose", "deploy/docker-compose.yml", "services:
  db:
    image: postgres:16
    environment:
      - POSTGRES_USER=app
@|      - POSTGRES_PASSWORD=«weak»
  mysql:
    image: mysql:8
    environment:
@|      MYSQL_ROOT_PASSWORD: «pw»
      MYSQL_DATABASE: app
  app:
    image: corp/app:1.4
    environment:
@|      DATABASE_URL: mysql://root:«pw»@mysql:3306/app
"),
    ("k8s-secret", "k8s/db-secret.yaml", "apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  username: YXBw
@|  password: «b64pw»
stringData:
@|  api-token: «alnum:40»
"),
    ("helm-values", "charts/app/values-prod.yaml", "replicaCount: 2
postgresql:
  auth:
    username: app
@|    password: «weak»
    database: app
redis:
  auth:
@|    password: «pw»
"),
    ("filezilla-sitemanager", "home/.config/filezilla/sitemanager.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<FileZilla3 version=\"3.66.0\" platform=\"*nix\">
  <Servers>
    <Server>
      <Host>ftp.corp.net</Host>
      <Port>21</Port>
      <Protocol>0</Protocol>
      <Type>0</Type>
      <User>deploy</User>
@|      <Pass encoding=\"base64\">«b64pw»</Pass>
      <Logontype>1</Logontype>
      <Name>prod ftp</Name>
    </Server>
  </Servers>
</FileZilla3>
"),
    ("filezilla-recentservers", "home/.config/filezilla/recentservers.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<FileZilla3 version=\"3.66.0\" platform=\"windows\">
  <RecentServers>
    <Server>
      <Host>sftp.corp.net</Host>
      <Port>22</Port>
      <Protocol>1</Protocol>
      <User>ops</User>
@|      <Pass encoding=\"base64\">«b64strong»</Pass>
    </Server>
  </RecentServers>
</FileZilla3>
"),
    ("winscp-ini", "home/WinSCP.ini", "[Configuration\\Interface]
RandomSeedFile=%APPDATA%\\winscp.rnd

[Sessions\\deploy@web1.corp.net]
HostName=web1.corp.net
UserName=deploy
@|Password=A35C«uphex:76»
FSProtocol=2
"),
    ("sublime-sftp", "site/sftp-config.json", "{
    \"type\": \"sftp\",
    \"save_before_upload\": true,
    \"upload_on_save\": true,
    \"host\": \"web1.corp.net\",
    \"user\": \"deploy\",
@|    \"password\": \"«weak»\",
    \"port\": \"22\",
    \"remote_path\": \"/var/www/site/\"
}
"),
    ("vscode-sftp", "site/.vscode/sftp.json", "{
    \"name\": \"prod\",
    \"host\": \"web1.corp.net\",
    \"protocol\": \"sftp\",
    \"port\": 22,
    \"username\": \"deploy\",
@|    \"password\": \"«pw»\",
    \"remotePath\": \"/var/www/site\",
    \"uploadOnSave\": true
}
"),
    ("atom-ftpconfig", "site/.ftpconfig", "{
    \"protocol\": \"ftp\",
    \"host\": \"ftp.corp.net\",
    \"port\": 21,
    \"user\": \"deploy\",
@|    \"pass\": \"«anypw»\",
    \"promptForPass\": false,
    \"remote\": \"/\"
}
"),
    ("jetbrains-datasources", "app/.idea/dataSources.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<project version=\"4\">
  <component name=\"DataSourceManagerImpl\" format=\"xml\" multifile-model=\"true\">
    <data-source source=\"LOCAL\" name=\"prod@db.internal\" uuid=\"«uuid»\">
      <driver-ref>postgresql</driver-ref>
      <jdbc-driver>org.postgresql.Driver</jdbc-driver>
@|      <jdbc-url>jdbc:postgresql://db.internal:5432/prod?user=app&amp;password=«pw»</jdbc-url>
    </data-source>
  </component>
</project>
"),
    ("jetbrains-webservers", "app/.idea/webServers.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<project version=\"4\">
  <component name=\"WebServers\">
    <option name=\"servers\">
      <webServer id=\"«uuid»\" name=\"prod\" url=\"https://www.corp.net\">
@|        <fileTransfer host=\"ftp.corp.net\" port=\"21\" rootFolder=\"/www\" accessType=\"FTP\" username=\"deploy\" password=\"«hex:40»\" />
      </webServer>
    </option>
  </component>
</project>
"),
    ("dbeaver", "home/.local/share/DBeaverData/workspace6/General/.dbeaver/data-sources.json", "{
  \"folders\": {},
  \"connections\": {
    \"postgres-jdbc-18c3f0a7d8e-1\": {
      \"provider\": \"postgresql\",
      \"driver\": \"postgres-jdbc\",
      \"name\": \"prod\",
      \"save-password\": true,
      \"configuration\": {
        \"host\": \"db.internal\",
        \"port\": \"5432\",
        \"database\": \"prod\",
        \"url\": \"jdbc:postgresql://db.internal:5432/prod\",
        \"user\": \"app\",
@|        \"password\": \"«weak»\",
        \"type\": \"prod\",
        \"auth-model\": \"native\"
      }
    }
  }
}
"),
    ("robo3t", "home/.3T/robo-3t/1.4.4/robo3t.json", "{
    \"connections\": [
        {
            \"connectionName\": \"prod\",
            \"serverHost\": \"mongo.internal\",
            \"serverPort\": 27017,
            \"credentials\": [
                {
                    \"databaseName\": \"admin\",
                    \"userName\": \"admin\",
@|                    \"userPassword\": \"«anypw»\",
                    \"enabled\": true
                }
            ]
        }
    ]
}
"),
    ("sql-dump", "backup/users.sql", "-- MySQL dump 10.13
DROP TABLE IF EXISTS `users`;
CREATE TABLE `users` (
  `id` int NOT NULL AUTO_INCREMENT,
  `email` varchar(255) NOT NULL,
  `password` varchar(255) NOT NULL,
  PRIMARY KEY (`id`)
);
INSERT INTO `users` VALUES
@|(1,'admin@corp.net','«bcrypt»'),
@|(2,'ops@corp.net','«bcrypt»'),
@|(3,'jdoe@corp.net','«bcrypt»');
"),
    ("ldif", "ldap/people.ldif", "dn: uid=jdoe,ou=people,dc=corp,dc=net
objectClass: inetOrgPerson
uid: jdoe
cn: John Doe
@|userPassword: «ssha»

dn: uid=svc,ou=people,dc=corp,dc=net
objectClass: inetOrgPerson
uid: svc
@|userPassword: «ssha»
"),
    ("http-cassette", "spec/cassettes/orders.yml", "---
http_interactions:
- request:
    method: get
    uri: https://api.corp.net/v1/orders
    body:
      encoding: US-ASCII
      string: ''
    headers:
      Accept:
      - application/json
      Authorization:
@|      - Bearer «alnum:40»
  response:
    status:
      code: 200
      message: OK
recorded_with: VCR 6.2.0
"),
    ("postman-collection", "api/orders.postman_collection.json", "{
  \"info\": {\"name\": \"Orders\", \"schema\": \"https://schema.getpostman.com/json/collection/v2.1.0/collection.json\"},
  \"auth\": {
    \"type\": \"bearer\",
    \"bearer\": [
@|      {\"key\": \"token\", \"value\": \"«alnum:40»\", \"type\": \"string\"}
    ]
  },
  \"item\": [
    {
      \"name\": \"list orders\",
      \"request\": {
        \"method\": \"GET\",
        \"header\": [
@|          {\"key\": \"X-Api-Key\", \"value\": \"«hex:32»\", \"type\": \"text\"}
        ],
        \"url\": \"https://api.corp.net/v1/orders\"
      }
    }
  ]
}
"),
    ("curl-commands", "scripts/smoke.sh", "#!/bin/sh
set -e
@|curl -s -H 'X-Api-Key: «hex:32»' https://api.corp.net/v1/health
@|curl --header \"PRIVATE-TOKEN: «glpat»\" https://gitlab.corp.net/api/v4/projects
@|curl -H \"X-Auth-Token: «alnum:32»\" https://swift.corp.net/v1/AUTH_ops
@|curl -u admin:«weak» https://jenkins.corp.net/api/json
"),
    ("jwk-private", "auth/jwks-private.json", "{
  \"keys\": [
    {
      \"kty\": \"EC\",
      \"crv\": \"P-256\",
      \"kid\": \"sig-1\",
      \"use\": \"sig\",
      \"x\": \"«jwk_b64:43»\",
      \"y\": \"«jwk_b64:43»\",
@|      \"d\": \"«jwk_b64:43»\"
    }
  ]
}
"),
    ("getenv-fallbacks", "app/config.php", "<?php
@|$dbPassword = getenv('DB_PASSWORD') ?: '«weak»';
@|$apiKey = getenv('API_KEY') ?: '«alnum:32»';
$host = getenv('DB_HOST') ?: 'localhost';
"),
    ("python-fallbacks", "app/settings_prod.py", "import os
@|API_TOKEN = os.environ.get('API_TOKEN', '«alnum:32»')
@|DB_PASSWORD = os.getenv('DB_PASSWORD', '«weak»')
DB_HOST = os.getenv('DB_HOST', 'localhost')
"),
    ("node-fallbacks", "app/config.js", "module.exports = {
@|  jwtSecret: process.env.JWT_SECRET || '«alnum:24»',
@|  dbPassword: process.env.DB_PASSWORD || '«weak»',
  port: process.env.PORT || 3000,
};
"),
    ("msmtprc", "home/.msmtprc", "defaults
auth on
tls on

account gmail
host smtp.gmail.com
port 587
from ops@corp.net
user ops@corp.net
@|password «lower:16»
"),
    ("mongoid", "shop/config/mongoid.yml", "production:
  clients:
    default:
@|      uri: mongodb://shop:«weak»@mongo1.internal:27017,mongo2.internal:27017/shop?replicaSet=rs0
      options:
        read:
          mode: :primary
"),
    ("hibernate", "app/src/main/resources/hibernate.cfg.xml", "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<!DOCTYPE hibernate-configuration PUBLIC \"-//Hibernate/Hibernate Configuration DTD 3.0//EN\" \"http://www.hibernate.org/dtd/hibernate-configuration-3.0.dtd\">
<hibernate-configuration>
  <session-factory>
    <property name=\"hibernate.connection.driver_class\">com.mysql.cj.jdbc.Driver</property>
    <property name=\"hibernate.connection.url\">jdbc:mysql://db.internal:3306/app</property>
    <property name=\"hibernate.connection.username\">app</property>
@|    <property name=\"hibernate.connection.password\">«weak»</property>
  </session-factory>
</hibernate-configuration>
"),
    ("redis-conf", "deploy/redis.conf", "bind 0.0.0.0
port 6379
@|requirepass «pw»
@|masterauth «pw»
appendonly yes
"),
    ("config-comments", "deploy/app.ini", "[database]
host = db.internal
user = app
; the old password, kept until the migration is done
@|# password: «pw»
password_file = /run/secrets/db
"),
    ("url-weak-password", "deploy/config.yml", "queue:
@|  url: amqp://app:«weak»@mq.internal:5672/prod
cache:
@|  url: redis://default:«weak»@localhost:6379/0
"),
    ("firefox-logins", "home/.mozilla/firefox/abcd1234.default/logins.json", "{\"nextId\":3,\"logins\":[{\"id\":1,\"hostname\":\"https://intranet.corp.net\",\"httpRealm\":null,\"formSubmitURL\":\"https://intranet.corp.net\",\"usernameField\":\"user\",\"passwordField\":\"pass\",
@|\"encryptedUsername\":\"MDoEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECA«b64:16»BBA«b64:22»=\",\"encryptedPassword\":\"MDoEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECA«b64:16»BBA«b64:22»=\",
\"guid\":\"{«uuid»}\",\"encType\":1,\"timesUsed\":4}]}
"),
    ("private-key-file", "home/.ssh/id_rsa", "@|«rsa»
"),
];

/// Files that look like credential files but hold none: templates, documentation with
/// placeholders, values read from the environment, ciphertext.
const DECOYS: &[(&str, &str, &str)] = &[
    (
        "env-example",
        "api/.env.example",
        "APP_ENV=production
DB_PASSWORD=changeme
STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx
DATABASE_URL=postgres://app:<password>@db.internal:5432/app
SESSION_SECRET=your-session-secret-here
",
    ),
    (
        "env-sample",
        "web/.env.sample",
        "NODE_ENV=development
SMTP_PASSWORD=
GITHUB_TOKEN=
ADMIN_PASSWORD=${ADMIN_PASSWORD}
",
    ),
    (
        "wp-config-sample",
        "wordpress/wp-config-sample.php",
        "<?php
define( 'DB_NAME', 'database_name_here' );
define( 'DB_USER', 'username_here' );
define( 'DB_PASSWORD', 'password_here' );
define( 'DB_HOST', 'localhost' );
define( 'AUTH_KEY',         'put your unique phrase here' );
define( 'SECURE_AUTH_KEY',  'put your unique phrase here' );
define( 'NONCE_SALT',       'put your unique phrase here' );
",
    ),
    (
        "docs-placeholders",
        "docs/setup.md",
        "# Setup

Point the service at your database:

    export DATABASE_URL=postgres://user:password@localhost:5432/app
    curl -H \"Authorization: Bearer $API_TOKEN\" https://api.corp.net/v1/orders
    curl -H 'X-Api-Key: <your-api-key>' https://api.corp.net/v1/health

In `~/.pgpass` write one line per server: `hostname:port:database:username:password`.
Set `DB_PASSWORD` in `.env` (see `.env.example`).
",
    ),
    (
        "settings-from-env",
        "mysite/mysite/settings_env.py",
        "import os
SECRET_KEY = os.environ['DJANGO_SECRET_KEY']
DATABASES = {'default': {'PASSWORD': os.environ.get('DB_PASSWORD'), 'USER': 'mysite'}}
EMAIL_HOST_PASSWORD = os.getenv('EMAIL_HOST_PASSWORD')
",
    ),
    (
        "spring-placeholders",
        "svc/src/main/resources/application-dev.properties",
        "spring.datasource.password=${DB_PASSWORD}
spring.mail.password=${MAIL_PASSWORD:}
jwt.secret=${JWT_SECRET}
",
    ),
    (
        "helm-template",
        "charts/app/templates/secret.yaml",
        "apiVersion: v1
kind: Secret
metadata:
  name: {{ include \"app.fullname\" . }}
type: Opaque
data:
  password: {{ .Values.postgresql.auth.password | b64enc | quote }}
stringData:
  api-token: {{ required \"apiToken\" .Values.apiToken }}
",
    ),
    (
        "sops-encrypted",
        "secrets/prod.enc.yaml",
        "db:
    password: «sops»
    user: «sops»
api_token: «sops»
sops:
    kms: []
    age:
        - recipient: age1«lower:58»
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB«b64:40»
            -----END AGE ENCRYPTED FILE-----
    lastmodified: \"2026-01-15T10:00:00Z\"
    mac: «sops»
    version: 3.8.1
",
    ),
    (
        "ansible-vault",
        "group_vars/prod/vault.yml",
        "$ANSIBLE_VAULT;1.1;AES256
«vault_hex»
",
    ),
    (
        "compose-env-refs",
        "deploy/docker-compose.override.yml",
        "services:
  db:
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      MYSQL_ROOT_PASSWORD_FILE: /run/secrets/mysql_root
",
    ),
];

/// Fills one template: labelled lines and slots.
fn render(r: &mut Rng, format: &'static str, path: &str, template: &str) -> ShapeFile {
    let mut g = Gen { r };
    let mut text = String::new();
    let mut labelled = Vec::new();
    let mut line_no = 1;
    for raw in template.lines() {
        let (label, line) = match raw.strip_prefix("@|") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if label {
            labelled.push(line_no);
        }
        let mut out = String::new();
        let mut rest = line;
        while let Some(open) = rest.find('«') {
            out.push_str(&rest[..open]);
            let after = &rest[open + '«'.len_utf8()..];
            let close = after.find('»').expect("slot closes");
            let slot = &after[..close];
            // `any`: a password of any strength.
            let slot = if slot == "any" { "anypw" } else { slot };
            out.push_str(&g.slot(slot));
            rest = &after[close + '»'.len_utf8()..];
        }
        out.push_str(rest);
        line_no += 1 + out.matches('\n').count();
        text.push_str(&out);
        text.push('\n');
    }
    ShapeFile {
        format,
        path: path.to_string(),
        text,
        labelled,
    }
}

/// Every positive and decoy file, values drawn from `seed`.
pub fn generate(seed: u64) -> Vec<ShapeFile> {
    let mut r = Rng::new(seed);
    (POSITIVE.iter().chain(DECOYS))
        .map(|(f, p, t)| render(&mut r, f, p, t))
        .collect()
}

/// How many formats are positives (the rest of `generate`'s files are decoys).
pub fn positive_count() -> usize {
    POSITIVE.len()
}

/// A finding as the scorer reads it: path, first and last line, rule, confidence.
pub struct Flag {
    pub path: String,
    pub line: usize,
    pub end_line: usize,
    pub rule: String,
    pub confidence: String,
}

#[derive(Default, Debug, Clone)]
pub struct FormatScore {
    pub format: &'static str,
    pub decoy: bool,
    pub lines: usize,
    pub lines_found: usize,
    /// Flagged lines that hold no labelled credential.
    pub extra: Vec<String>,
    pub missed: Vec<usize>,
}

/// Scores per line (a labelled line is found when a finding's lines cover it) and per file
/// (a file is found when one of its labelled lines is).
pub fn score(files: &[ShapeFile], flags: &[Flag]) -> Vec<FormatScore> {
    let positives = positive_count();
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mine: Vec<&Flag> = flags.iter().filter(|x| x.path == f.path).collect();
            let covers = |l: usize| {
                mine.iter()
                    .any(|x| x.line <= l && l <= x.end_line.max(x.line))
            };
            let missed: Vec<usize> = f.labelled.iter().copied().filter(|&l| !covers(l)).collect();
            let mut extra: Vec<String> = mine
                .iter()
                .filter(|x| {
                    !f.labelled
                        .iter()
                        .any(|&l| x.line <= l && l <= x.end_line.max(x.line))
                })
                .map(|x| format!("{}:{} {} ({})", x.path, x.line, x.rule, x.confidence))
                .collect();
            extra.sort();
            extra.dedup_by(|a, b| a.split(' ').next() == b.split(' ').next());
            FormatScore {
                format: f.format,
                decoy: i >= positives,
                lines: f.labelled.len(),
                lines_found: f.labelled.len() - missed.len(),
                extra,
                missed,
            }
        })
        .collect()
}
