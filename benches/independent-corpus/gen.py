#!/usr/bin/env python3
"""Generate a labelled, synthetic project tree for evaluating secret scanners.

Everything here is random and fake: tokens follow the documented *shape* of each
provider's credentials (prefix, alphabet, length, checksum where public), but the
bodies come from a seeded PRNG and were never issued by anyone.

Output, under $OUT (default /tmp/keywarden-independent-corpus):
  tree/          the project tree
  labels.jsonl   one object per planted item:
                 {"path", "line", "kind", "secret", "label": "secret"|"decoy"}
                 multi-line blocks (PEM etc.) also carry "end_line".

Standard library only.  Deterministic for a given SEED.
"""
import base64
import hashlib
import json
import os
import random
import re
import shutil
import string
import sys
import textwrap
import zlib

SEED = int(os.environ.get('SEED', '20240611'))
R = random.Random(SEED)

# Written outside the repository, so the project's own scan never sees the planted values.
OUT = os.environ.get('OUT', '/tmp/keywarden-independent-corpus')
ROOT = os.path.join(OUT, 'tree')
LABELS_PATH = os.path.join(OUT, 'labels.jsonl')

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = UPPER + LOWER + DIGITS
HEXL = '0123456789abcdef'
HEXU = '0123456789ABCDEF'
B64 = ALNUM + '+/'
B64URL = ALNUM + '-_'


def rs(n, alpha=ALNUM):
    return ''.join(R.choice(alpha) for _ in range(n))


def hexs(n):
    return rs(n, HEXL)


def rbytes(n):
    return bytes(R.getrandbits(8) for _ in range(n))


def b64(b):
    return base64.b64encode(b).decode()


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).decode().rstrip('=')


def uuid4():
    v = R.getrandbits(128)
    v &= ~(0xf << 76)
    v |= 0x4 << 76
    v &= ~(0x3 << 62)
    v |= 0x2 << 62
    h = '%032x' % v
    return f'{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}'


def digits(n, first_nonzero=True):
    s = rs(n, DIGITS)
    if first_nonzero and s[0] == '0':
        s = str(R.randint(1, 9)) + s[1:]
    return s


WORDS = ['harbor', 'falcon', 'maple', 'quartz', 'tiger', 'velvet', 'orbit',
         'cobalt', 'ember', 'glacier', 'lantern', 'meadow', 'nimbus', 'pepper',
         'raven', 'saffron', 'thunder', 'walnut', 'zephyr', 'copper']


def password(kind=None):
    """Realistic-looking passwords without characters that break most contexts."""
    kind = kind or R.choice(['random', 'random', 'words'])
    if kind == 'words':
        w1, w2 = R.sample(WORDS, 2)
        return w1.capitalize() + R.choice('-_.') + w2 + str(R.randint(10, 9999)) + R.choice('!#%*')
    n = R.randint(16, 24)
    while True:
        s = rs(n, ALNUM + '!#%^*-_+=.~')
        if (any(c in UPPER for c in s) and any(c in LOWER for c in s)
                and any(c in DIGITS for c in s) and any(c in '!#%^*-_+=.~' for c in s)):
            return s


def url_password():
    """Password safe to put in a URL userinfo without escaping."""
    kind = R.choice(['random', 'words'])
    if kind == 'words':
        w1, w2 = R.sample(WORDS, 2)
        return w1.capitalize() + '-' + w2 + str(R.randint(10, 9999))
    return rs(R.randint(18, 28), ALNUM + '-_.~')


# ---------------------------------------------------------------- checksums
B62 = DIGITS + UPPER + LOWER


def base62(n):
    if n == 0:
        return '0'
    out = ''
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out


def crc_b62(s):
    return base62(zlib.crc32(s.encode()) & 0xffffffff).rjust(6, '0')


# ---------------------------------------------------------------- token makers
def tok_aws_id(prefix='AKIA'):
    return prefix + rs(16, UPPER + '234567')


def tok_aws_secret():
    return rs(40, B64)


def tok_github(prefix):
    body = rs(30)
    return prefix + body + crc_b62(body)


def tok_github_fine():
    return 'github_pat_' + rs(22) + '_' + rs(59)


def tok_gitlab():
    return 'glpat-' + rs(20, B64URL)


def tok_gitlab_runner():
    return 'glrt-' + rs(20, B64URL)


def tok_slack_bot():
    return f'xoxb-{digits(12)}-{digits(13)}-{rs(24)}'


def tok_slack_user():
    return f'xoxp-{digits(12)}-{digits(12)}-{digits(13)}-{hexs(32)}'


def tok_slack_webhook():
    return (f'https://hooks.slack.com/services/T{rs(8, UPPER + DIGITS)}/'
            f'B{rs(10, UPPER + DIGITS)}/{rs(24)}')


def tok_stripe(prefix='sk_live_', long=True):
    if long:
        return prefix + '51' + rs(97)
    return prefix + rs(24)


def tok_openai(style='proj'):
    if style == 'proj':
        return 'sk-proj-' + rs(74, B64URL) + 'T3BlbkFJ' + rs(74, B64URL)
    if style == 'svc':
        return 'sk-svcacct-' + rs(74, B64URL) + 'T3BlbkFJ' + rs(74, B64URL)
    return 'sk-' + rs(20) + 'T3BlbkFJ' + rs(20)


def tok_anthropic():
    return 'sk-ant-api03-' + rs(93, B64URL) + 'AA'


def tok_hf():
    return 'hf_' + rs(34, UPPER + LOWER)


def tok_npm():
    body = rs(30)
    return 'npm_' + body + crc_b62(body)


def tok_pypi():
    def field(t, data):
        return bytes([t, len(data)]) + data
    ident = uuid4().encode()
    caveat = json.dumps({"version": 1, "permissions": R.choice(
        ["user", {"projects": [R.choice(['acme-cli', 'acme-sdk', 'acme-client'])]}])},
        separators=(',', ':')).encode()
    mac = (b'\x02' + field(1, b'pypi.org') + field(2, ident) + b'\x00'
           + field(2, caveat) + b'\x00' + b'\x00' + field(6, rbytes(32)))
    return 'pypi-' + b64u(mac)


def tok_twilio_sk():
    return 'SK' + hexs(32)


def tok_sendgrid():
    return 'SG.' + rs(22, B64URL) + '.' + rs(43, B64URL)


def tok_mailgun():
    return 'key-' + hexs(32)


def tok_mailchimp():
    return hexs(32) + '-us' + str(R.randint(2, 21))


def tok_shopify(prefix='shpat_'):
    return prefix + hexs(32)


def tok_atlassian():
    return 'ATATT3xFfGF0' + rs(171, B64URL) + '=' + rs(8, HEXU)


def tok_newrelic():
    return 'NRAK-' + rs(27, UPPER + DIGITS)


def tok_sentry_dsn():
    return (f'https://{hexs(32)}@o{R.randint(100000, 4500000)}.ingest.us.sentry.io/'
            f'{R.randint(1000000, 4509999999)}')


def tok_sentry_org():
    payload = {"iat": R.randint(1690000000, 1720000000) + R.random(),
               "url": "https://sentry.io", "region_url": "https://us.sentry.io",
               "org": "acme-platform"}
    # the secret part is the base64 of 32 hex characters (43 chars once padding is stripped)
    return 'sntrys_' + b64(json.dumps(payload, separators=(',', ':')).encode()).rstrip('=') + '_' + b64(hexs(32).encode()).rstrip('=')


def tok_grafana_sa():
    return 'glsa_' + rs(32) + '_' + hexs(8)


def tok_grafana_cloud():
    payload = {"o": digits(6), "n": f"stack-{digits(6)}-hm-write-acme",
               "k": rs(24), "m": {"r": "prod-us-east-0"}}
    return 'glc_' + b64(json.dumps(payload, separators=(',', ':')).encode())


def tok_linear():
    return 'lin_api_' + rs(40)


def tok_notion(style='secret'):
    if style == 'secret':
        return 'secret_' + rs(43)
    return 'ntn_' + digits(11) + rs(35)


def tok_postman():
    return 'PMAK-' + hexs(24) + '-' + hexs(34)


def tok_vault(kind='hvs'):
    if kind == 'hvs':
        return 'hvs.CAESI' + rs(86, B64URL)
    if kind == 'hvs_short':
        return 'hvs.' + rs(24)
    return 'hvb.AAAAAQ' + rs(132, B64URL)


def tok_tfc():
    return rs(14) + '.atlasv1.' + rs(67)


def tok_do():
    return 'dop_v1_' + hexs(64)


def tok_databricks():
    return 'dapi' + hexs(32) + R.choice(['', '-2', '-3'])


def tok_doppler(kind='st'):
    if kind == 'st':
        return 'dp.st.' + R.choice(['prd', 'stg', 'dev']) + '.' + rs(40)
    return 'dp.pt.' + rs(43)


def tok_pulumi():
    return 'pul-' + hexs(40)


def snowflake():
    return str(R.randint(900000000000000000, 1299999999999999999))


def tok_discord_bot():
    return b64(snowflake().encode()).rstrip('=') + '.' + rs(6, B64URL) + '.' + rs(38, B64URL)


def tok_discord_webhook():
    return f'https://discord.com/api/webhooks/{snowflake()}/{rs(68, B64URL)}'


def tok_telegram():
    return f'{R.randint(5000000000, 7999999999)}:AA{rs(33, B64URL)}'


def tok_square(kind='access'):
    if kind == 'access':
        return 'EAAA' + rs(60, B64URL)
    if kind == 'oauth_secret':
        return 'sq0csp-' + rs(43, B64URL)
    return 'sq0atp-' + rs(22, B64URL)


def tok_braintree():
    return 'access_token$production$' + rs(16, LOWER + DIGITS) + '$' + hexs(32)


def tok_dockerhub():
    return 'dckr_pat_' + rs(27, B64URL)


def tok_rubygems():
    return 'rubygems_' + hexs(48)


def tok_nuget():
    return 'oy2' + rs(43, LOWER + DIGITS)


def tok_bitbucket():
    return 'ATBB' + rs(24) + rs(8, HEXU)


def tok_cohere():
    return rs(40)


def tok_google_api():
    return 'AIza' + rs(35, B64URL)


def tok_azure_storage_key():
    return b64(rbytes(64))


def tok_azure_client_secret():
    a = ALNUM + '_-.~'
    return rs(3, a) + str(R.randint(0, 9)) + 'Q~' + rs(34, a)


def tok_okta():
    return '00' + rs(40, B64URL)


def tok_supabase():
    return 'sbp_' + hexs(40)


def tok_groq():
    return 'gsk_' + rs(52)


def tok_replicate():
    return 'r8_' + rs(37)


def tok_alibaba_id():
    return 'LTAI5t' + rs(18)


def tok_cloudflare():
    return rs(40, B64URL)


def tok_mapbox(prefix='sk'):
    p = {"u": "acme-maps", "a": rs(25, LOWER + DIGITS)}
    return prefix + '.' + b64u(json.dumps(p, separators=(',', ':'))) + '.' + rs(22, B64URL)


def tok_age_placeholder():
    raise NotImplementedError


def jwt(payload, alg='HS256'):
    h = b64u(json.dumps({"alg": alg, "typ": "JWT"}, separators=(',', ':')))
    p = b64u(json.dumps(payload, separators=(',', ':')))
    sig = rs(43, B64URL) if alg.startswith('HS') else rs(342, B64URL)
    return f'{h}.{p}.{sig}'


# ---------------------------------------------------------------- DER / crypto
def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(x):
    return der(0x02, x.to_bytes(max(1, (x.bit_length() + 8) // 8), 'big'))


def der_seq(*items):
    return der(0x30, b''.join(items))


def der_oct(b):
    return der(0x04, b)


def der_bits(b):
    return der(0x03, b'\x00' + b)


DER_NULL = b'\x05\x00'


def der_oid(s):
    p = [int(x) for x in s.split('.')]
    out = bytes([40 * p[0] + p[1]])
    for v in p[2:]:
        enc = [v & 0x7f]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def der_utf8(s):
    return der(0x0c, s.encode())


def der_printable(s):
    return der(0x13, s.encode())


def der_utctime(s):
    return der(0x17, s.encode())


def pem(label, data, width=64):
    b = b64(data)
    lines = [b[i:i + width] for i in range(0, len(b), width)]
    return f'-----BEGIN {label}-----\n' + '\n'.join(lines) + f'\n-----END {label}-----'


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def is_probable_prime(n):
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(24):
        a = R.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def gen_prime(bits):
    while True:
        c = R.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if is_probable_prime(c) and (c - 1) % 65537:
            return c


class RSAKey:
    def __init__(self, bits=2048):
        e = 65537
        while True:
            p, q = gen_prime(bits // 2), gen_prime(bits // 2)
            if p != q and (p * q).bit_length() == bits:
                break
        if p < q:
            p, q = q, p
        self.n, self.e, self.p, self.q = p * q, e, p, q
        phi = (p - 1) * (q - 1)
        self.d = pow(e, -1, phi)
        self.dp, self.dq, self.qinv = self.d % (p - 1), self.d % (q - 1), pow(q, -1, p)

    def pkcs1(self):
        return der_seq(der_int(0), der_int(self.n), der_int(self.e), der_int(self.d),
                       der_int(self.p), der_int(self.q), der_int(self.dp), der_int(self.dq),
                       der_int(self.qinv))

    def pkcs8(self):
        return der_seq(der_int(0), der_seq(der_oid('1.2.840.113549.1.1.1'), DER_NULL),
                       der_oct(self.pkcs1()))

    def spki(self):
        return der_seq(der_seq(der_oid('1.2.840.113549.1.1.1'), DER_NULL),
                       der_bits(der_seq(der_int(self.n), der_int(self.e))))

    def pkcs1_pub(self):
        return der_seq(der_int(self.n), der_int(self.e))


def ssh_string(b):
    if isinstance(b, str):
        b = b.encode()
    return len(b).to_bytes(4, 'big') + b


def ssh_mpint(x):
    return ssh_string(x.to_bytes((x.bit_length() + 8) // 8, 'big'))


def ssh_rsa_pub_line(k, comment):
    blob = ssh_string('ssh-rsa') + ssh_mpint(k.e) + ssh_mpint(k.n)
    return 'ssh-rsa ' + b64(blob) + ' ' + comment


# P-256
P256_P = 2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1
P256_A = P256_P - 3
P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
P256_G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
          0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)
P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
assert (P256_G[1] ** 2 - (P256_G[0] ** 3 + P256_A * P256_G[0] + P256_B)) % P256_P == 0


def _ec_add(P, Q):
    if P is None:
        return Q
    if Q is None:
        return P
    p = P256_P
    if P[0] == Q[0]:
        if (P[1] + Q[1]) % p == 0:
            return None
        l = (3 * P[0] * P[0] + P256_A) * pow(2 * P[1], -1, p) % p
    else:
        l = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (l * l - P[0] - Q[0]) % p
    return (x, (l * (P[0] - x) - P[1]) % p)


def _ec_mul(k, P):
    R_ = None
    while k:
        if k & 1:
            R_ = _ec_add(R_, P)
        P = _ec_add(P, P)
        k >>= 1
    return R_


class ECKey:
    def __init__(self):
        self.d = R.randrange(1, P256_N)
        x, y = _ec_mul(self.d, P256_G)
        self.pub = b'\x04' + x.to_bytes(32, 'big') + y.to_bytes(32, 'big')

    def sec1(self, with_params=True):
        items = [der_int(1), der_oct(self.d.to_bytes(32, 'big'))]
        if with_params:
            items.append(der(0xa0, der_oid('1.2.840.10045.3.1.7')))
        items.append(der(0xa1, der_bits(self.pub)))
        return der_seq(*items)

    def pkcs8(self):
        return der_seq(der_int(0), der_seq(der_oid('1.2.840.10045.2.1'), der_oid('1.2.840.10045.3.1.7')),
                       der_oct(self.sec1(with_params=False)))

    def spki(self):
        return der_seq(der_seq(der_oid('1.2.840.10045.2.1'), der_oid('1.2.840.10045.3.1.7')),
                       der_bits(self.pub))


# Ed25519 (RFC 8032)
ED_Q = 2 ** 255 - 19
ED_D = -121665 * pow(121666, ED_Q - 2, ED_Q) % ED_Q
ED_I = pow(2, (ED_Q - 1) // 4, ED_Q)


def _ed_xrecover(y):
    xx = (y * y - 1) * pow(ED_D * y * y + 1, ED_Q - 2, ED_Q)
    x = pow(xx, (ED_Q + 3) // 8, ED_Q)
    if (x * x - xx) % ED_Q:
        x = x * ED_I % ED_Q
    if x % 2:
        x = ED_Q - x
    return x


_ED_BY = 4 * pow(5, ED_Q - 2, ED_Q) % ED_Q
ED_B = (_ed_xrecover(_ED_BY), _ED_BY)


def _ed_add(P, Q):
    x1, y1 = P
    x2, y2 = Q
    t = ED_D * x1 * x2 * y1 * y2
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, ED_Q - 2, ED_Q)
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, ED_Q - 2, ED_Q)
    return (x3 % ED_Q, y3 % ED_Q)


def _ed_mul(P, e):
    Q = (0, 1)
    while e:
        if e & 1:
            Q = _ed_add(Q, P)
        P = _ed_add(P, P)
        e >>= 1
    return Q


def ed25519_pub(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], 'little')
    a &= (1 << 254) - 8
    a |= 1 << 254
    x, y = _ed_mul(ED_B, a)
    return (y | ((x & 1) << 255)).to_bytes(32, 'little')


class EdKey:
    def __init__(self, comment):
        self.seed = rbytes(32)
        self.pub = ed25519_pub(self.seed)
        self.comment = comment

    def pub_blob(self):
        return ssh_string('ssh-ed25519') + ssh_string(self.pub)

    def pub_line(self):
        return 'ssh-ed25519 ' + b64(self.pub_blob()) + ' ' + self.comment

    def openssh_private(self):
        check = rbytes(4)
        priv = (check + check + ssh_string('ssh-ed25519') + ssh_string(self.pub)
                + ssh_string(self.seed + self.pub) + ssh_string(self.comment))
        i = 1
        while len(priv) % 8:
            priv += bytes([i])
            i += 1
        body = (b'openssh-key-v1\x00' + ssh_string('none') + ssh_string('none') + ssh_string(b'')
                + (1).to_bytes(4, 'big') + ssh_string(self.pub_blob()) + ssh_string(priv))
        return pem('OPENSSH PRIVATE KEY', body, width=70)


def encrypted_pkcs8():
    inner_len = R.choice([1216, 1218, 1219, 1217])
    ct = rbytes((inner_len // 16 + 1) * 16)
    alg = der_seq(
        der_oid('1.2.840.113549.1.5.13'),
        der_seq(
            der_seq(der_oid('1.2.840.113549.1.5.12'),
                    der_seq(der_oct(rbytes(16)), der_int(2048),
                            der_seq(der_oid('1.2.840.113549.2.9'), DER_NULL))),
            der_seq(der_oid('2.16.840.1.101.3.4.1.42'), der_oct(rbytes(16)))))
    return pem('ENCRYPTED PRIVATE KEY', der_seq(alg, der_oct(ct)))


def x509_cert(key, cn, org='Acme Platform Inc.', issuer_cn=None):
    def name(c):
        return der_seq(
            der(0x31, der_seq(der_oid('2.5.4.6'), der_printable('US'))),
            der(0x31, der_seq(der_oid('2.5.4.10'), der_utf8(org))),
            der(0x31, der_seq(der_oid('2.5.4.3'), der_utf8(c))))
    sig_alg = der_seq(der_oid('1.2.840.113549.1.1.11'), DER_NULL)
    y = R.randint(21, 23)
    tbs = der_seq(
        der(0xa0, der_int(2)),
        der_int(R.getrandbits(127)),
        sig_alg,
        name(issuer_cn or cn),
        der_seq(der_utctime(f'{y}0{R.randint(1, 9)}1{R.randint(0, 9)}120000Z'),
                der_utctime(f'{y + 3}0{R.randint(1, 9)}1{R.randint(0, 9)}120000Z')),
        name(cn),
        key.spki())
    return pem('CERTIFICATE', der_seq(tbs, sig_alg, der_bits(rbytes(256))))


# OpenPGP
def _pgp_mpi(x):
    return x.bit_length().to_bytes(2, 'big') + x.to_bytes((x.bit_length() + 7) // 8, 'big')


def _pgp_packet(tag, body):
    n = len(body)
    if n < 192:
        hdr = bytes([n])
    elif n < 8384:
        n2 = n - 192
        hdr = bytes([(n2 >> 8) + 192, n2 & 0xff])
    else:
        hdr = b'\xff' + n.to_bytes(4, 'big')
    return bytes([0xc0 | tag]) + hdr + body


def _crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_armor(kind, data):
    b = b64(data)
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    crc = b64(_crc24(data).to_bytes(3, 'big'))
    return (f'-----BEGIN PGP {kind} KEY BLOCK-----\n\n' + '\n'.join(lines)
            + f'\n={crc}\n-----END PGP {kind} KEY BLOCK-----')


def pgp_key(k, uid, secret=True):
    created = R.randint(1600000000, 1710000000).to_bytes(4, 'big')
    pub = b'\x04' + created + b'\x01' + _pgp_mpi(k.n) + _pgp_mpi(k.e)
    p, q = sorted((k.p, k.q))
    if secret:
        mpis = _pgp_mpi(k.d) + _pgp_mpi(p) + _pgp_mpi(q) + _pgp_mpi(pow(p, -1, q))
        body = pub + b'\x00' + mpis + (sum(mpis) % 65536).to_bytes(2, 'big')
        pkt = _pgp_packet(5, body)
    else:
        pkt = _pgp_packet(6, pub)
    data = pkt + _pgp_packet(13, uid.encode())
    return pgp_armor('PRIVATE' if secret else 'PUBLIC', data)


# Bech32 (age)
BECH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'


def _bech_polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def bech32(hrp, data):
    acc, bits, out = 0, 0, []
    for b in data:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    hv = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = _bech_polymod(hv + out + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + '1' + ''.join(BECH[d] for d in out + chk)


def age_keypair():
    sk = rbytes(32)
    secret = bech32('age-secret-key-', sk).upper()
    public = bech32('age', rbytes(32))  # public derivation needs X25519; a random point encoding is fine here
    return secret, public


# PNG (for data URIs and notebook outputs)
def png(w=48, h=32):
    def chunk(t, d):
        return len(d).to_bytes(4, 'big') + t + d + (zlib.crc32(t + d) & 0xffffffff).to_bytes(4, 'big')
    r0, g0, b0 = R.randint(0, 255), R.randint(0, 255), R.randint(0, 255)
    raw = b''
    for y in range(h):
        raw += b'\x00' + b''.join(bytes([(r0 + x * 3) % 256, (g0 + y * 5) % 256, (b0 + x * y) % 256])
                                  for x in range(w))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', w.to_bytes(4, 'big') + h.to_bytes(4, 'big') + b'\x08\x02\x00\x00\x00')
            + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def sha256hex():
    return hashlib.sha256(rbytes(32)).hexdigest()


def sha1hex():
    return hashlib.sha1(rbytes(20)).hexdigest()


def sri512():
    return 'sha512-' + b64(rbytes(64))


def sri384():
    return 'sha384-' + b64(rbytes(48))


# ---------------------------------------------------------------- plant registry
PL = []
LABELS = []
FILES = []
MARK = re.compile(r'@@P(\d+)@@')


def _mk(kind, secret, label, insert):
    idx = len(PL)
    PL.append({'kind': kind, 'secret': secret, 'label': label,
               'insert': secret if insert is None else insert, 'used': 0})
    return f'@@P{idx}@@'


def S(kind, secret, insert=None):
    """Plant a secret; returns a marker to put in a template."""
    return _mk(kind, secret, 'secret', insert)


def D(kind, value, insert=None):
    """Plant a decoy (must NOT be reported)."""
    return _mk(kind, value, 'decoy', insert)


def SB(kind, block, indent=0, json_escape=False, label='secret'):
    """Plant a multi-line block (PEM...).  The label's secret is the first line."""
    first = block.split('\n')[0]
    if json_escape:
        ins = block.replace('\n', '\\n')
    else:
        ins = blk(block, indent)
    return _mk(kind, first, label, ins)


def DB(kind, block, indent=0, json_escape=False):
    return SB(kind, block, indent, json_escape, label='decoy')


def blk(text, n):
    lines = text.split('\n')
    return lines[0] + ''.join('\n' + (' ' * n + l if l else l) for l in lines[1:])


def T(text, **kw):
    text = textwrap.dedent(text)
    if text.startswith('\n'):
        text = text[1:]
    for k, v in kw.items():
        key = '«' + k + '»'
        assert key in text, (k, text[:80])
        text = text.replace(key, v)
    assert '«' not in text, text[text.index('«'):text.index('«') + 40]
    return text


def write(path, text):
    out, pos, line = [], 0, 1
    for m in MARK.finditer(text):
        chunk = text[pos:m.start()]
        out.append(chunk)
        line += chunk.count('\n')
        p = PL[int(m.group(1))]
        assert p['used'] == 0, ('marker used twice', path, p['kind'])
        p['used'] += 1
        ins = p['insert']
        assert p['secret'] in ins, (path, p['kind'])
        off = ins.index(p['secret'])
        rec = {'path': path, 'line': line + ins[:off].count('\n'), 'kind': p['kind'],
               'secret': p['secret'], 'label': p['label']}
        if '\n' in ins:
            rec['end_line'] = line + ins.rstrip('\n').count('\n')
        elif '\\n' in ins and ins.startswith('-----BEGIN'):
            rec['end_line'] = rec['line']
        LABELS.append(rec)
        out.append(ins)
        line += ins.count('\n')
        pos = m.end()
    out.append(text[pos:])
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w', encoding='utf-8', newline='\n') as f:
        f.write(''.join(out))
    FILES.append(path)


def notebook(cells, kernel='python3'):
    nb_cells, n = [], 0
    for c in cells:
        typ, src = c[0], c[1]
        outs = c[2] if len(c) > 2 else []
        lines = src.split('\n')
        source = [l + '\n' for l in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        cell = {"cell_type": typ, "id": hexs(8), "metadata": {}, "source": source}
        if typ == 'code':
            n += 1
            cell["execution_count"] = n
            outputs = []
            for o in outs:
                if o[0] == 'stream':
                    tl = o[1].split('\n')
                    outputs.append({"name": "stdout", "output_type": "stream",
                                    "text": [l + '\n' for l in tl[:-1]] + ([tl[-1]] if tl[-1] else [])})
                elif o[0] == 'result':
                    tl = o[1].split('\n')
                    outputs.append({"data": {"text/plain": [l + '\n' for l in tl[:-1]] + [tl[-1]]},
                                    "execution_count": n, "metadata": {}, "output_type": "execute_result"})
                elif o[0] == 'image':
                    outputs.append({"data": {"image/png": o[1], "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                                    "metadata": {}, "output_type": "display_data"})
            cell["outputs"] = outputs
            cell = {"cell_type": "code", "execution_count": n, "id": cell["id"], "metadata": {},
                    "outputs": outputs, "source": source}
        nb_cells.append(cell)
    nbd = {"cells": nb_cells,
           "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": kernel},
                        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3},
                                          "file_extension": ".py", "mimetype": "text/x-python", "name": "python",
                                          "nbconvert_exporter": "python", "pygments_lexer": "ipython3",
                                          "version": "3.11.6"}},
           "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nbd, indent=1, ensure_ascii=False) + '\n'


# ====================================================================== constants
AWS_EX_ID = 'AKIAIOSFODNN7EXAMPLE'
AWS_EX_SEC = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
JWT_IO = ('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0'
          'IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c')
SLACK_DOC = 'xoxb-not-a-real-token-this-will-not-work'
EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'


def docker_digest():
    return 'sha256:' + sha256hex()


def now_iat():
    return R.randint(1704067200, 1718000000)


# ====================================================================== root
def gen_root():
    write('README.md', T('''
        # Acme Platform

        Monorepo for the Acme commerce platform: the public API (`services/api`),
        the storefront (`services/web`), background workers (`services/worker`),
        billing (`services/billing`), the legacy PHP shop, the Rails admin, the
        .NET reporting service and the `acmectl` CLI.

        ## Quick start

        ```bash
        cp .env.example .env
        # fill in the blanks, for example
        export OPENAI_API_KEY=«ph1»
        make up
        ```

        The API is then served on http://localhost:8000 and the storefront on
        http://localhost:3000.

        ## Staging

        Staging lives at https://staging.acme.io. The admin console is at
        https://admin.staging.acme.io (user `ops-admin`, password `«pw»`);
        ask in #platform before you change anything there.

        ## Layout

        | path | what |
        | --- | --- |
        | `services/` | deployable services |
        | `infra/` | Terraform, Kubernetes manifests, Helm chart |
        | `notebooks/` | analysis notebooks (do not commit outputs!) |
        | `docs/` | design docs and runbooks |

        Current release: `v2.14.3` (commit «sha»).
        ''', ph1=D('placeholder', '<your-openai-key>'), pw=S('generic_password', password()),
        sha=D('git_commit_sha', sha1hex())))

    write('.env.example', T('''
        # Copy to .env and fill in. Never commit real values.
        APP_ENV=development
        DATABASE_URL=«d1»
        REDIS_URL=redis://localhost:6379/0
        STRIPE_SECRET_KEY=«d2»
        STRIPE_PUBLISHABLE_KEY=
        OPENAI_API_KEY=«d3»
        GITHUB_TOKEN=«d4»
        SLACK_BOT_TOKEN=«d5»
        AWS_ACCESS_KEY_ID=«d6»
        AWS_SECRET_ACCESS_KEY=«d7»
        SENDGRID_API_KEY=«d8»
        DB_PASSWORD=«d9»
        JWT_SECRET=«d10»
        HEROKU_API_KEY=
        ''', d1=D('placeholder_url', 'postgres://user:password@localhost:5432/acme_dev'),
        d2=D('placeholder_shaped', 'sk_live_xxxxxxxxxxxxxxxxxxxxxxxx'),
        d3=D('placeholder', 'sk-proj-REPLACE_ME'),
        d4=D('placeholder', '<your-token-here>'),
        d5=D('placeholder', 'xoxb-your-bot-token'),
        d6=D('aws_example_key', AWS_EX_ID),
        d7=D('aws_example_secret', AWS_EX_SEC),
        d8=D('placeholder_shaped', 'SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),
        d9=D('placeholder', 'changeme'),
        d10=D('placeholder', 'change-this-in-production')))

    write('.gitignore', T('''
        __pycache__/
        *.pyc
        .venv/
        node_modules/
        .next/
        dist/
        target/
        bin/
        obj/
        .terraform/
        *.tfstate
        *.tfstate.backup
        .env
        .env.local
        .ipynb_checkpoints/
        .DS_Store
        '''))

    write('LICENSE', T('''
        MIT License

        Copyright (c) 2021-2024 Acme Platform Inc.

        Permission is hereby granted, free of charge, to any person obtaining a copy
        of this software and associated documentation files (the "Software"), to deal
        in the Software without restriction, including without limitation the rights
        to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
        copies of the Software, and to permit persons to whom the Software is
        furnished to do so, subject to the following conditions:

        The above copyright notice and this permission notice shall be included in all
        copies or substantial portions of the Software.

        THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
        IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY.
        '''))

    write('Makefile', T('''
        .PHONY: up down test lint images

        GIT_SHA := $(shell git rev-parse --short HEAD)

        up:
        	docker compose up -d --build

        down:
        	docker compose down -v

        test:
        	cd services/api && poetry run pytest -q
        	cd services/worker && go test ./...
        	cd services/web && npm test

        images:
        	echo "«ref»" | docker login -u acmebot --password-stdin
        	docker build -t acme/api:$(GIT_SHA) services/api
        '''.replace('        \t', '        \t'), ref=D('env_reference', '$$DOCKERHUB_TOKEN')))

    write('CHANGELOG.md', T('''
        # Changelog

        ## 2.14.3 - 2024-05-28
        - fix(worker): retry AMQP publish on channel close («c1»)
        - chore(deps): bump stripe from 8.1.0 to 9.6.0 («c2»)

        ## 2.14.2 - 2024-05-14
        - fix(api): paginate /v1/orders correctly («c3»)
        - security: rotate leaked Slack webhook, see incident 2024-03
        ''', c1=D('git_commit_sha', sha1hex()[:12]), c2=D('git_commit_sha', sha1hex()),
        c3=D('git_commit_sha', sha1hex())))

    write('SECURITY.md', T('''
        # Security policy

        Report vulnerabilities to security@acme.io (PGP key fingerprint
        `«fp»`).

        If you notice a credential in this repository - anything that looks like
        `«p1»`, `glpat-`, `xoxb-`, `sk_live_` or `AKIA` - rotate it immediately and
        post in #sec-incidents. Do not "fix" it by deleting the line: the value is
        still in git history.
        ''', fp=D('pgp_fingerprint', rs(40, HEXU)), p1=D('doc_prefix_mention', 'ghp_')))

    write('CONTRIBUTING.md', T('''
        # Contributing

        1. Create a branch from `main`.
        2. Run `make test` and `pre-commit run -a`.
        3. Open a PR; CODEOWNERS will be requested automatically.

        Secrets go in Vault (`secret/data/acme/<service>`) or in the CI secret
        store, never in the repository. Reference them as `${{ secrets.NAME }}`
        in GitHub Actions and `$NAME` in GitLab CI.
        '''))

    write('.editorconfig', T('''
        root = true

        [*]
        end_of_line = lf
        insert_final_newline = true
        indent_style = space
        indent_size = 4

        [*.{js,ts,tsx,json,yml,yaml}]
        indent_size = 2

        [Makefile]
        indent_style = tab
        '''))

    age_sec, age_pub = age_keypair()
    write('.sops.yaml', T('''
        creation_rules:
          - path_regex: infra/helm/.*\\.enc\\.yaml$
            age: «age»
          - path_regex: ops/.*\\.enc\\.json$
            pgp: «fp»
        ''', age=D('age_public_key', age_pub), fp=D('pgp_fingerprint', rs(40, HEXU))))

    write('.pre-commit-config.yaml', T('''
        repos:
          - repo: https://github.com/pre-commit/pre-commit-hooks
            rev: «r1»  # frozen: v4.6.0
            hooks:
              - id: trailing-whitespace
              - id: end-of-file-fixer
              - id: check-added-large-files
              - id: detect-private-key
          - repo: https://github.com/psf/black
            rev: 24.4.2
            hooks:
              - id: black
        ''', r1=D('git_commit_sha', sha1hex())))

    write('.tool-versions', 'python 3.11.6\nnodejs 20.12.2\ngolang 1.22.3\nterraform 1.8.4\n')
    write('.nvmrc', '20.12.2\n')

    # ------------------------------------------------------------ docker compose
    write('docker-compose.yml', T('''
        services:
          db:
            image: postgres:16.2@«dg»
            environment:
              POSTGRES_USER: acme
              POSTGRES_PASSWORD: «pgpw»
              POSTGRES_DB: acme
            volumes:
              - pgdata:/var/lib/postgresql/data

          redis:
            image: redis:7.2-alpine
            command: ["redis-server", "--requirepass", "«rpw»"]

          rabbitmq:
            image: rabbitmq:3.13-management
            environment:
              RABBITMQ_DEFAULT_USER: acme
              RABBITMQ_DEFAULT_PASS: «rmq»

          api:
            build: ./services/api
            depends_on: [db, redis]
            environment:
              DATABASE_URL: «dburl»
              REDIS_URL: «redis»
              DD_API_KEY: «dd»
              DD_SITE: datadoghq.eu
              SENDGRID_API_KEY: «sg»
            ports: ["8000:8000"]

          worker:
            build: ./services/worker
            environment:
              AMQP_URL: «amqp»
              DOPPLER_TOKEN: «dop»

          azurite:
            image: mcr.microsoft.com/azure-storage/azurite:3.29.0

          reports:
            build: ./services/reports
            environment:
              Storage__ConnectionString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=«azurite»;BlobEndpoint=http://azurite:10000/devstoreaccount1;"

        volumes:
          pgdata: {}
        ''', dg=D('docker_digest', docker_digest()),
        pgpw=S('generic_password', password()),
        rpw=S('generic_password', password('random')),
        rmq=D('template_ref', '${RABBITMQ_PASS:-guest}'),
        dburl=D('template_url', 'postgres://acme:${POSTGRES_PASSWORD}@db:5432/acme'),
        redis=S('redis_url', f'redis://:{url_password()}@redis:6379/0'),
        dd=S('datadog_api_key', hexs(32)),
        sg=S('sendgrid_api_key', tok_sendgrid()),
        amqp=D('template_url', 'amqp://acme:${RABBITMQ_PASS}@rabbitmq:5672/'),
        dop=S('doppler_token', tok_doppler('st')),
        azurite=D('azurite_dev_key', AZURITE_KEY)))

    write('docker-compose.override.yml', T('''
        # Local overrides: mount sources, enable debug.
        services:
          api:
            volumes:
              - ./services/api:/app
            environment:
              DEBUG: "1"
              LOG_LEVEL: debug
          web:
            build: ./services/web
            command: npm run dev
            environment:
              NEXT_PUBLIC_API_URL: http://localhost:8000
        '''))


# ====================================================================== dotfiles
def gen_dotfiles():
    write('.npmrc', T('''
        registry=https://registry.npmjs.org/
        @acme:registry=https://npm.pkg.github.com
        //npm.pkg.github.com/:_authToken=«t1»
        //registry.npmjs.org/:_authToken=«npm»
        always-auth=true
        ''', t1=D('template_ref', '${GITHUB_PACKAGES_TOKEN}'), npm=S('npm_token', tok_npm())))

    write('.pypirc', T('''
        [distutils]
        index-servers =
            pypi
            acme

        [pypi]
        username = __token__
        password = «pypi»

        [acme]
        repository = https://pypi.acme.internal/
        username = deploy
        password = «pw»
        ''', pypi=S('pypi_token', tok_pypi()), pw=S('generic_password', password())))

    her = uuid4()
    write('.netrc', T('''
        machine api.heroku.com
          login ops@acme.io
          password «h1»
        machine git.heroku.com
          login ops@acme.io
          password «h2»
        machine ftp.partner-reports.com
          login acme
          password «pw»
        ''', h1=S('heroku_api_key', her), h2=S('heroku_api_key', her),
        pw=S('generic_password', password())))

    write('.git-credentials', T('''
        https://acme-ci:«ghp»@github.com
        https://oauth2:«gl»@gitlab.com
        ''', ghp=S('github_pat', tok_github('ghp_')), gl=S('gitlab_pat', tok_gitlab())))

    a1 = b64(('acmebot:' + tok_dockerhub()).encode())
    a2 = b64(('acme-ci:' + tok_github('ghp_')).encode())
    write('.docker/config.json', T('''
        {
          "auths": {
            "https://index.docker.io/v1/": {
              "auth": "«a1»"
            },
            "ghcr.io": {
              "auth": "«a2»"
            }
          },
          "credsStore": ""
        }
        ''', a1=S('docker_config_auth', a1), a2=S('docker_config_auth', a2)))

    write('.aws/credentials', T('''
        [default]
        aws_access_key_id = «id»
        aws_secret_access_key = «sec»
        region = eu-west-1

        # copied from the AWS docs while setting up the CLI
        [docs-example]
        aws_access_key_id = «exid»
        aws_secret_access_key = «exsec»
        ''', id=S('aws_access_key_id', tok_aws_id()), sec=S('aws_secret_access_key', tok_aws_secret()),
        exid=D('aws_example_key', AWS_EX_ID), exsec=D('aws_example_secret', AWS_EX_SEC)))

    write('.aws/config', T('''
        [default]
        region = eu-west-1
        output = json

        [profile acme-prod]
        role_arn = arn:aws:iam::«acct»:role/OrganizationAccountAccessRole
        source_profile = default
        '''.replace('«acct»', '«acct»'), acct=D('aws_account_id', digits(12))))

    write('.gem/credentials', T('''
        ---
        :rubygems_api_key: «rg»
        ''', rg=S('rubygems_api_key', tok_rubygems())))

    write('.terraformrc', T('''
        plugin_cache_dir = "$HOME/.terraform.d/plugin-cache"

        credentials "app.terraform.io" {
          token = "«tfc»"
        }
        ''', tfc=S('terraform_cloud_token', tok_tfc())))

    write('.databrickscfg', T('''
        [DEFAULT]
        host  = https://adb-«ws».12.azuredatabricks.net
        token = «dapi»
        ''', ws=digits(16), dapi=S('databricks_token', tok_databricks())))

    write('.sentryclirc', T('''
        [defaults]
        url = https://sentry.io/
        org = acme-platform
        project = api

        [auth]
        token = «st»
        ''', st=S('sentry_auth_token', tok_sentry_org())))

    write('.config/gh/hosts.yml', T('''
        github.com:
            users:
                acme-ci:
                    oauth_token: «gho»
            git_protocol: https
            user: acme-ci
        ''', gho=S('github_oauth_token', tok_github('gho_'))))

    write('.pgpass', T('''
        # hostname:port:database:username:password
        db.prod.acme.internal:5432:acme:acme_app:«pw»
        localhost:5432:*:postgres:«ref»
        ''', pw=S('generic_password', password()), ref=D('placeholder', '*')))

    write('pip.conf', T('''
        [global]
        index-url = «url»
        extra-index-url = https://pypi.org/simple
        timeout = 60
        ''', url=S('url_basic_auth', f'https://deploy:{url_password()}@pypi.acme.internal/simple/')))


# ====================================================================== CI
def gen_ci(deploy_key_pem):
    hook = tok_slack_webhook()
    write('.github/workflows/ci.yml', T('''
        name: CI

        on:
          push:
            branches: [main]
          pull_request:

        permissions:
          contents: read

        jobs:
          test:
            runs-on: ubuntu-22.04
            services:
              postgres:
                image: postgres:16
                env:
                  POSTGRES_PASSWORD: «cipw»
                ports: ["5432:5432"]
            steps:
              - uses: actions/checkout@«c1» # v4.1.6
              - uses: actions/setup-python@«c2» # v5.1.0
                with:
                  python-version: "3.11"
                  cache: pip
              - run: pip install -r services/api/requirements.txt
              - run: pytest -q services/api
                env:
                  DATABASE_URL: «ciurl»
                  GITHUB_TOKEN: «gt»

          docker:
            runs-on: ubuntu-22.04
            needs: test
            steps:
              - uses: actions/checkout@«c3» # v4.1.6
              - name: Login to Docker Hub
                run: echo "«dckr»" | docker login -u acmebot --password-stdin
              - run: docker build -t acme/api:${{ github.sha }} services/api
              - name: Notify Slack
                if: failure()
                run: |
                  curl -X POST -H 'Content-type: application/json' \\
                    --data '{"text":"CI failed on ${{ github.ref }}"}' \\
                    «hook»
        ''', cipw=D('ci_service_default_password', 'postgres'),
        c1=D('git_commit_sha', sha1hex()), c2=D('git_commit_sha', sha1hex()),
        ciurl=D('ci_service_default_password', 'postgresql://postgres:postgres@localhost:5432/test'),
        gt=D('template_ref', '${{ secrets.GITHUB_TOKEN }}'),
        c3=D('git_commit_sha', sha1hex()),
        dckr=S('dockerhub_pat', tok_dockerhub()),
        hook=S('slack_webhook', hook)))

    kh_key = EdKey('')
    write('.github/workflows/deploy.yml', T('''
        name: Deploy

        on:
          workflow_dispatch:
          push:
            tags: ["v*"]

        env:
          TF_API_TOKEN: «tfc»
          HEROKU_API_KEY: «her»
          AZURE_CLIENT_ID: «u1»
          AZURE_TENANT_ID: «u2»
          AZURE_SUBSCRIPTION_ID: «u3»
          AZURE_CLIENT_SECRET: «acs»

        jobs:
          deploy:
            runs-on: ubuntu-22.04
            environment: production
            steps:
              - uses: actions/checkout@v4
              - uses: google-github-actions/auth@v2
                with:
                  credentials_json: «gcp»
              - name: Trust bastion host key
                run: echo "bastion.acme.io «kh»" >> ~/.ssh/known_hosts
              - name: Write SSH key for rsync
                run: |
                  mkdir -p ~/.ssh
                  cat > ~/.ssh/id_ed25519 <<'EOF'
                  «key»
                  EOF
                  chmod 600 ~/.ssh/id_ed25519
              - run: rsync -az build/ deploy@bastion.acme.io:/srv/www/
              - run: terraform -chdir=infra/terraform apply -auto-approve
        ''', tfc=S('terraform_cloud_token', tok_tfc()), her=S('heroku_api_key', uuid4()),
        u1=D('uuid_identifier', uuid4()), u2=D('uuid_identifier', uuid4()), u3=D('uuid_identifier', uuid4()), acs=S('azure_client_secret', tok_azure_client_secret()),
        gcp=D('template_ref', '${{ secrets.GCP_SA_KEY }}'),
        kh=D('ssh_public_key', kh_key.pub_line().rsplit(' ', 1)[0]),
        key=SB('private_key_openssh', deploy_key_pem, indent=12)))

    write('.github/workflows/release.yml', T('''
        name: Release

        on:
          release:
            types: [published]

        jobs:
          publish:
            runs-on: ubuntu-22.04
            env:
              NODE_AUTH_TOKEN: «npm»
              GH_TOKEN: «ghs»
              SENTRY_AUTH_TOKEN: «st»
              GEM_HOST_API_KEY: «rg»
              SOPS_AGE_KEY: «age»
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-node@v4
                with:
                  node-version: 20
                  registry-url: https://registry.npmjs.org
              - run: npm publish --access public
                working-directory: packages/sdk
              - run: gem push acme-*.gem
              - run: dotnet nuget push out/*.nupkg -k «nuget» -s https://api.nuget.org/v3/index.json
              - run: sentry-cli releases new "${{ github.ref_name }}"
        ''', npm=S('npm_token', tok_npm()), ghs=S('github_app_token', tok_github('ghs_')),
        st=S('sentry_auth_token', tok_sentry_org()), rg=S('rubygems_api_key', tok_rubygems()),
        age=S('age_secret_key', age_keypair()[0]), nuget=S('nuget_api_key', tok_nuget())))

    write('.github/workflows/nightly.yml', T('''
        name: Nightly

        on:
          schedule:
            - cron: "17 3 * * *"

        jobs:
          audit:
            runs-on: ubuntu-22.04
            steps:
              - uses: actions/checkout@v4
              - uses: actions/cache@«c1» # v4.0.2
                with:
                  path: ~/.cache/pip
                  key: ${{ runner.os }}-pip-${{ hashFiles('**/requirements.txt') }}
              - uses: snyk/actions/python@master
                env:
                  SNYK_TOKEN: «ref»
              - run: npm audit --audit-level=high
                working-directory: services/web
        ''', c1=D('git_commit_sha', sha1hex()), ref=D('template_ref', '${{ secrets.SNYK_TOKEN }}')))

    write('.github/dependabot.yml', T('''
        version: 2
        updates:
          - package-ecosystem: pip
            directory: /services/api
            schedule: {interval: weekly}
          - package-ecosystem: npm
            directory: /services/web
            schedule: {interval: weekly}
          - package-ecosystem: gomod
            directory: /services/worker
            schedule: {interval: weekly}
        '''))
    write('.github/CODEOWNERS', '* @acme/platform\n/services/billing/ @acme/payments\n/infra/ @acme/sre\n')
    write('.github/pull_request_template.md', '## What\n\n## Why\n\n## Checklist\n- [ ] tests\n- [ ] no secrets in the diff\n')

    write('.gitlab-ci.yml', T('''
        stages: [test, publish, deploy]

        variables:
          DOCKER_DRIVER: overlay2
          PULUMI_ACCESS_TOKEN: «pul»
          GITLAB_TOKEN: «gl»
          TWINE_USERNAME: __token__
          TWINE_PASSWORD: «pypi»
          POSTGRES_PASSWORD: «ref»

        test:
          stage: test
          image: python:3.11
          script:
            - pip install -r services/api/requirements.txt
            - pytest -q services/api

        publish:
          stage: publish
          script:
            - python -m build services/sdk-python
            - twine upload services/sdk-python/dist/*

        deploy:
          stage: deploy
          script:
            - pulumi up --yes --stack prod --cwd infra/pulumi
            - git push https://acme-bot:«bb»@bitbucket.org/acme/platform-mirror.git HEAD:main
          only: [main]
        ''', pul=S('pulumi_token', tok_pulumi()), gl=S('gitlab_pat', tok_gitlab()),
        pypi=S('pypi_token', tok_pypi()), ref=D('env_reference', '$CI_DB_PASSWORD'),
        bb=S('bitbucket_app_password', tok_bitbucket())))

    write('Jenkinsfile', T('''
        pipeline {
          agent { label 'linux' }
          environment {
            VAULT_ADDR     = 'https://vault.acme.internal:8200'
            VAULT_TOKEN    = '«hvs»'
            JIRA_API_TOKEN = '«atl»'
            GITHUB_TOKEN   = «cred»
            NEXUS_PASSWORD = '«pw»'
          }
          stages {
            stage('Build') {
              steps {
                sh './gradlew build'
              }
            }
            stage('Publish') {
              when { branch 'main' }
              steps {
                sh 'curl -sf -X POST -H "Authorization: Bearer «ghfine»" https://api.github.com/repos/acme/platform/releases -d @release.json'
              }
            }
          }
          post {
            failure {
              sh "curl -X POST -H 'Content-type: application/json' --data '{\\"text\\":\\"Build failed: ${env.BUILD_URL}\\"}' «hook»"
            }
          }
        }
        ''', hvs=S('vault_token', tok_vault('hvs')), atl=S('atlassian_api_token', tok_atlassian()),
        cred=D('template_ref', "credentials('github-release-token')"), pw=S('generic_password', password()),
        ghfine=S('github_fine_grained_pat', tok_github_fine()), hook=S('slack_webhook', tok_slack_webhook())))

    write('bitbucket-pipelines.yml', T('''
        image: node:20

        pipelines:
          branches:
            main:
              - step:
                  name: Build and upload
                  script:
                    - npm ci && npm run build
                    - pipe: atlassian/aws-s3-deploy:1.1.0
                      variables:
                        AWS_ACCESS_KEY_ID: «r1»
                        AWS_SECRET_ACCESS_KEY: «r2»
                        S3_BUCKET: acme-web-static
                        LOCAL_PATH: out
                    - curl -u acme-bot:«bb» https://api.bitbucket.org/2.0/repositories/acme/web/downloads -F files=@dist.zip
        ''', r1=D('env_reference', '$AWS_ACCESS_KEY_ID'), r2=D('env_reference', '$AWS_SECRET_ACCESS_KEY'),
        bb=S('bitbucket_app_password', tok_bitbucket())))


# ====================================================================== services/api (Python)
def gen_api(rsa_jwt_key):
    b = 'services/api'
    write(f'{b}/pyproject.toml', T('''
        [tool.poetry]
        name = "acme-api"
        version = "2.14.3"
        description = "Acme public API"
        authors = ["Acme Platform <platform@acme.io>"]

        [tool.poetry.dependencies]
        python = "^3.11"
        fastapi = "^0.111.0"
        sqlalchemy = "^2.0.30"
        stripe = "^9.6.0"
        openai = "^1.30.1"
        anthropic = "^0.26.0"
        twilio = "^9.0.5"
        boto3 = "^1.34.110"

        [tool.poetry.group.dev.dependencies]
        pytest = "^8.2.0"
        moto = "^5.0.7"

        [build-system]
        requires = ["poetry-core"]
        build-backend = "poetry.core.masonry.api"
        '''))

    pkgs = [('anyio', '4.4.0'), ('certifi', '2024.2.2'), ('fastapi', '0.111.0'),
            ('idna', '3.7'), ('pydantic', '2.7.1'), ('stripe', '9.6.0')]
    parts = []
    for name, ver in pkgs:
        parts.append(T('''
            [[package]]
            name = "«n»"
            version = "«v»"
            description = ""
            optional = false
            python-versions = ">=3.8"
            files = [
                {file = "«n»-«v»-py3-none-any.whl", hash = "«h1»"},
                {file = "«n»-«v».tar.gz", hash = "«h2»"},
            ]
            '''.replace('«n»', name).replace('«v»', ver),
            h1=D('lockfile_hash', 'sha256:' + sha256hex()), h2=D('lockfile_hash', 'sha256:' + sha256hex())))
    write(f'{b}/poetry.lock', '# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n\n'
          + '\n'.join(parts) + '\n[metadata]\nlock-version = "2.0"\npython-versions = "^3.11"\ncontent-hash = "'
          + D('lockfile_hash', sha256hex()) + '"\n')

    req_lines = []
    for name, ver in [('fastapi', '0.111.0'), ('sqlalchemy', '2.0.30'), ('stripe', '9.6.0'), ('uvicorn', '0.29.0')]:
        req_lines.append(f'{name}=={ver} \\\n    --hash=' + D('lockfile_hash', 'sha256:' + sha256hex()))
    write(f'{b}/requirements.txt', '# generated by pip-compile --generate-hashes\n--extra-index-url '
          + S('url_basic_auth', f'https://ci-reader:{url_password()}@pypi.acme.internal/simple/') + '\n\n'
          + '\n'.join(req_lines) + '\n')

    write(f'{b}/alembic.ini', T('''
        [alembic]
        script_location = migrations
        prepend_sys_path = .
        # overridden by DATABASE_URL in env.py when set
        sqlalchemy.url = «pg»

        [loggers]
        keys = root,sqlalchemy,alembic

        [logger_root]
        level = WARN
        handlers = console
        ''', pg=S('postgres_url', f'postgresql+psycopg://acme_migrator:{url_password()}@db.staging.acme.internal:5432/acme')))

    write(f'{b}/app/__init__.py', '')
    write(f'{b}/app/settings.py', T('''
        """Application settings for the acme API.

        Values come from the environment; the literals below are the fallbacks the
        staging deployment used before we moved to Doppler.
        """
        import os

        DEBUG = os.getenv("DEBUG", "0") == "1"
        SECRET_KEY = «env1»
        ALLOWED_HOSTS = ["api.acme.io", "staging-api.acme.io"]

        AWS_ACCESS_KEY_ID = os.getenv("AWS_ACCESS_KEY_ID", "«aid»")
        AWS_SECRET_ACCESS_KEY = os.getenv("AWS_SECRET_ACCESS_KEY", "«asec»")
        AWS_STORAGE_BUCKET_NAME = "acme-uploads-staging"
        AWS_S3_REGION_NAME = "eu-west-1"

        SENTRY_DSN = "«dsn»"
        CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "«redis»")

        PASSWORD_MIN_LENGTH = 12
        PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
        SESSION_COOKIE_NAME = "acme_session"
        ''', env1=D('env_reference', 'os.environ["DJANGO_SECRET_KEY"]'),
        aid=S('aws_access_key_id', tok_aws_id()), asec=S('aws_secret_access_key', tok_aws_secret()),
        dsn=S('sentry_dsn', tok_sentry_dsn()),
        redis=S('redis_url', f'redis://default:{url_password()}@redis-14523.c1.eu-west-1-2.ec2.cloud.redislabs.com:14523/0')))

    write(f'{b}/app/db.py', T('''
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        from . import config

        engine = create_engine(config.DATABASE_URL, pool_pre_ping=True, pool_size=10)
        SessionLocal = sessionmaker(bind=engine, autoflush=False)


        def describe_engine() -> str:
            # never log the password
            return engine.url.render_as_string(hide_password=True)
        '''))

    write(f'{b}/app/config.py', T('''
        import os

        DATABASE_URL = os.environ.get("DATABASE_URL", "«tmpl»")
        REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
        JWT_SECRET = «env»
        JWT_ALGORITHM = "RS256"
        ''', tmpl=D('template_url', 'postgresql://acme:${DB_PASSWORD}@localhost:5432/acme'),
        env=D('env_reference', 'os.environ["JWT_SECRET"]')))

    write(f'{b}/app/main.py', T('''
        from fastapi import Depends, FastAPI, HTTPException, Security
        from fastapi.security import APIKeyHeader

        from .routes import orders, users

        app = FastAPI(title="Acme API", version="2.14.3")
        api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

        app.include_router(users.router, prefix="/v1/users")
        app.include_router(orders.router, prefix="/v1/orders")


        @app.get("/healthz")
        def healthz():
            return {"status": "ok"}


        def require_api_key(key: str = Security(api_key_header)):
            if not key:
                raise HTTPException(status_code=401, detail="missing api key")
            return key
        '''))

    write(f'{b}/app/auth/__init__.py', '')
    write(f'{b}/app/auth/jwt_keys.py', T('''
        """Keys used to sign session JWTs (RS256).

        TODO(platform): load these from KMS before GA.
        """

        PRIVATE_KEY_PEM = """«priv»
        """

        PUBLIC_KEY_PEM = """«pub»
        """
        ''', priv=SB('private_key_rsa', pem('RSA PRIVATE KEY', rsa_jwt_key.pkcs1())),
        pub=DB('public_key', pem('PUBLIC KEY', rsa_jwt_key.spki()))))

    write(f'{b}/app/auth/tokens.py', T('''
        import datetime as dt

        import jwt

        from .. import config
        from .jwt_keys import PRIVATE_KEY_PEM, PUBLIC_KEY_PEM


        def issue(user_id: str, ttl: int = 3600) -> str:
            """Issue a session token.

            A token looks like the example from RFC 7519 / jwt.io::

                «ex»
            """
            now = dt.datetime.now(dt.timezone.utc)
            payload = {"sub": user_id, "iat": now, "exp": now + dt.timedelta(seconds=ttl)}
            return jwt.encode(payload, PRIVATE_KEY_PEM, algorithm=config.JWT_ALGORITHM)


        def verify(token: str) -> dict:
            return jwt.decode(token, PUBLIC_KEY_PEM, algorithms=[config.JWT_ALGORITHM])
        ''', ex=D('jwt_doc_example', JWT_IO)))

    write(f'{b}/app/clients/__init__.py', '')
    write(f'{b}/app/clients/stripe_client.py', T('''
        import stripe

        stripe.api_key = "«sk»"
        stripe.max_network_retries = 2

        # Price and product identifiers (public, safe to commit)
        PRICE_PRO_MONTHLY = "«p1»"
        PRICE_PRO_YEARLY = "«p2»"


        def create_checkout(customer_id: str, price: str = PRICE_PRO_MONTHLY):
            return stripe.checkout.Session.create(
                customer=customer_id,
                mode="subscription",
                line_items=[{"price": price, "quantity": 1}],
                success_url="https://acme.io/billing/success",
                cancel_url="https://acme.io/billing/cancel",
            )
        ''', sk=S('stripe_secret_key', tok_stripe('sk_live_')),
        p1=D('stripe_object_id', 'price_1' + rs(23)), p2=D('stripe_object_id', 'price_1' + rs(23))))

    write(f'{b}/app/clients/openai_client.py', T('''
        """Thin wrapper around the OpenAI SDK.

        Usage::

            >>> client = make_client()   # reads OPENAI_API_KEY
            >>> client.models.list()

        For local debugging export the team key first:

            export OPENAI_API_KEY=«oai»
        """
        import os

        from openai import OpenAI


        def make_client() -> OpenAI:
            return OpenAI(api_key=«env»)
        ''', oai=S('openai_api_key', tok_openai('proj')), env=D('env_reference', 'os.environ["OPENAI_API_KEY"]')))

    write(f'{b}/app/clients/claude.py', T('''
        import os

        import anthropic

        ANTHROPIC_API_KEY = os.getenv("ANTHROPIC_API_KEY") or "«ant»"
        MODEL = "claude-3-5-sonnet-20240620"

        client = anthropic.Anthropic(api_key=ANTHROPIC_API_KEY)


        def summarise(text: str) -> str:
            msg = client.messages.create(
                model=MODEL,
                max_tokens=512,
                messages=[{"role": "user", "content": f"Summarise:\\n\\n{text}"}],
            )
            return msg.content[0].text
        ''', ant=S('anthropic_api_key', tok_anthropic())))

    write(f'{b}/app/clients/sms.py', T('''
        from twilio.rest import Client

        TWILIO_ACCOUNT_SID = "AC«sid»"
        TWILIO_AUTH_TOKEN = "«tok»"
        TWILIO_API_KEY = "«sk»"
        TWILIO_API_SECRET = "«sec»"
        MESSAGING_SERVICE_SID = "MG«mg»"

        client = Client(TWILIO_API_KEY, TWILIO_API_SECRET, TWILIO_ACCOUNT_SID)


        def send_otp(phone: str, code: str) -> str:
            msg = client.messages.create(
                messaging_service_sid=MESSAGING_SERVICE_SID, to=phone, body=f"Your Acme code is {code}"
            )
            return msg.sid
        ''', sid=hexs(32), tok=S('twilio_auth_token', hexs(32)), sk=S('twilio_api_key', tok_twilio_sk()),
        sec=S('twilio_api_key', rs(32)), mg=hexs(32)))

    write(f'{b}/app/clients/shopify.py', T('''
        import requests

        SHOP = "acme-store.myshopify.com"
        SHOPIFY_ADMIN_TOKEN = "«at»"
        SHOPIFY_API_SECRET = "«ss»"  # used to verify webhook HMACs


        def list_products(limit: int = 50):
            r = requests.get(
                f"https://{SHOP}/admin/api/2024-04/products.json",
                headers={"X-Shopify-Access-Token": SHOPIFY_ADMIN_TOKEN},
                params={"limit": limit},
                timeout=10,
            )
            r.raise_for_status()
            return r.json()["products"]
        ''', at=S('shopify_token', tok_shopify('shpat_')), ss=S('shopify_token', tok_shopify('shpss_'))))

    write(f'{b}/app/clients/embeddings.py', T('''
        import cohere

        co = cohere.Client("«co»")


        def embed(texts: list[str]) -> list[list[float]]:
            resp = co.embed(texts=texts, model="embed-english-v3.0", input_type="search_document")
            return resp.embeddings
        ''', co=S('cohere_api_key', tok_cohere())))

    write(f'{b}/app/clients/geocode.py', T('''
        import requests

        GOOGLE_MAPS_KEY = "«k»"


        def geocode(address: str) -> dict:
            r = requests.get(
                "https://maps.googleapis.com/maps/api/geocode/json",
                params={"address": address, "key": GOOGLE_MAPS_KEY},
                timeout=5,
            )
            return r.json()
        ''', k=S('google_api_key', tok_google_api())))

    write(f'{b}/app/clients/search.py', T('''
        from algoliasearch.search_client import SearchClient

        ALGOLIA_APP_ID = "«app»"
        ALGOLIA_ADMIN_API_KEY = "«admin»"
        # search-only key, shipped to browsers on purpose
        ALGOLIA_SEARCH_ONLY_KEY = "«search»"

        client = SearchClient.create(ALGOLIA_APP_ID, ALGOLIA_ADMIN_API_KEY)
        products = client.init_index("prod_products")
        ''', app=rs(10, UPPER + DIGITS), admin=S('algolia_admin_key', hexs(32)),
        search=D('algolia_search_key', hexs(32))))

    write(f'{b}/app/models.py', T('''
        from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, String, func
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            email = Column(String(255), unique=True, nullable=False)
            password_hash = Column(String(255), nullable=False)
            created_at = Column(DateTime, server_default=func.now())


        class Order(Base):
            __tablename__ = "orders"
            id = Column(Integer, primary_key=True)
            user_id = Column(Integer, ForeignKey("users.id"))
            total = Column(Numeric(10, 2))
            stripe_payment_intent = Column(String(64))
        '''))

    write(f'{b}/app/routes/__init__.py', '')
    write(f'{b}/app/routes/users.py', T('''
        import getpass

        from fastapi import APIRouter
        from passlib.context import CryptContext
        from pydantic import BaseModel, Field

        router = APIRouter()
        pwd_context = CryptContext(schemes=["argon2"], deprecated="auto")


        class SignUp(BaseModel):
            email: str
            password: str = Field(min_length=12)


        @router.post("/")
        def sign_up(body: SignUp):
            hashed = pwd_context.hash(body.password)
            return {"email": body.email, "ok": bool(hashed)}


        def create_admin_interactively():
            password = getpass.getpass("Admin password: ")
            return pwd_context.hash(password)
        '''))

    write(f'{b}/app/routes/orders.py', T('''
        from fastapi import APIRouter, Query

        router = APIRouter()


        @router.get("/")
        def list_orders(limit: int = Query(50, le=200), cursor: str | None = None):
            # cursor is an opaque base64 token such as "eyJpZCI6IDEyMzR9"
            return {"items": [], "next_cursor": None}
        '''))

    write(f'{b}/app/utils/__init__.py', '')
    write(f'{b}/app/utils/hashing.py', T('''
        import hashlib

        EMPTY_SHA256 = "«e»"
        CHUNK = 1 << 20


        def file_digest(path: str) -> str:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
            return h.hexdigest()
        ''', e=D('sha256_hex', EMPTY_SHA256)))

    write(f'{b}/tests/__init__.py', '')
    write(f'{b}/tests/conftest.py', T('''
        import boto3
        import pytest
        from moto import mock_aws


        @pytest.fixture
        def s3():
            with mock_aws():
                yield boto3.client(
                    "s3",
                    region_name="us-east-1",
                    aws_access_key_id="«id»",
                    aws_secret_access_key="«sec»",
                )
        ''', id=D('aws_example_key', AWS_EX_ID), sec=D('aws_example_secret', AWS_EX_SEC)))

    write(f'{b}/tests/test_payments.py', T('''
        import hashlib
        import hmac

        CUSTOMER = "«cus»"
        PAYMENT_INTENT = "«pi»"


        def test_signature_header_parsing():
            header = "t=1716900000,v1=«sig»"
            parts = dict(p.split("=", 1) for p in header.split(","))
            assert parts["t"] == "1716900000"
            assert len(parts["v1"]) == 64


        def test_customer_prefix():
            assert CUSTOMER.startswith("cus_")
            assert PAYMENT_INTENT.startswith("pi_")
        ''', cus=D('stripe_object_id', 'cus_' + rs(14)), pi=D('stripe_object_id', 'pi_3' + rs(23)),
        sig=D('sha256_hex', sha256hex())))

    write(f'{b}/tests/test_auth.py', T('''
        import jwt


        def test_decode_without_verification():
            token = "«ex»"
            claims = jwt.decode(token, options={"verify_signature": False})
            assert claims["name"] == "John Doe"
        ''', ex=D('jwt_doc_example', JWT_IO)))

    write(f'{b}/Dockerfile', T('''
        FROM python:3.11-slim@«dg»

        ENV PYTHONDONTWRITEBYTECODE=1 \\
            PYTHONUNBUFFERED=1
        ARG HF_TOKEN=«hf»
        ENV TINI_VERSION=v0.19.0
        ENV TINI_SHA256=«tsha»

        ADD https://github.com/krallin/tini/releases/download/${TINI_VERSION}/tini /tini
        RUN echo "${TINI_SHA256}  /tini" | sha256sum -c - && chmod +x /tini

        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt \\
            && python -c "from huggingface_hub import snapshot_download; snapshot_download('acme/product-embedder', token='${HF_TOKEN}')"
        COPY . .
        ENTRYPOINT ["/tini", "--"]
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
        ''', dg=D('docker_digest', docker_digest()), hf=S('huggingface_token', tok_hf()),
        tsha=D('sha256_hex', sha256hex())))

    write(f'{b}/.env', T('''
        DATABASE_URL=«pg»
        DJANGO_SECRET_KEY=«dj»
        OPENAI_API_KEY=«oai»
        ANTHROPIC_API_KEY=«ant»
        SLACK_BOT_TOKEN=«xoxb»
        TWILIO_ACCOUNT_SID=AC«sid»
        TWILIO_AUTH_TOKEN=«tw»
        SHOPIFY_ACCESS_TOKEN=«shp»
        SENTRY_DSN=«dsn»
        LINEAR_API_KEY=«lin»
        COHERE_API_KEY=«co»
        GROQ_API_KEY=«gsk»
        HEROKU_APP_ID=«happ»
        NEW_RELIC_API_KEY=«nr»
        LOG_LEVEL=info
        ''', pg=S('postgres_url', f'postgres://acme_app:{url_password()}@acme-prod.cluster-c9xk2lqz.eu-west-1.rds.amazonaws.com:5432/acme'),
        dj=S('generic_secret', rs(50, LOWER + DIGITS + '!@#%^&*(-_=+)')),
        oai=S('openai_api_key', tok_openai('legacy')), ant=S('anthropic_api_key', tok_anthropic()),
        xoxb=S('slack_bot_token', tok_slack_bot()), sid=hexs(32), tw=S('twilio_auth_token', hexs(32)),
        shp=S('shopify_token', tok_shopify('shpat_')), dsn=S('sentry_dsn', tok_sentry_dsn()),
        lin=S('linear_api_key', tok_linear()), co=S('cohere_api_key', tok_cohere()),
        gsk=S('groq_api_key', tok_groq()), happ=D('uuid_identifier', uuid4()), nr=S('newrelic_api_key', tok_newrelic())))

    write(f'{b}/scripts/seed.py', T('''
        """Seed a fresh database with an admin user and demo data."""
        import getpass
        import sys

        from app.db import SessionLocal
        from app.routes.users import pwd_context
        from app.models import User


        def main():
            interactive = "--ask" in sys.argv
            password = getpass.getpass() if interactive else "«pw»"
            with SessionLocal() as s:
                s.add(User(email="admin@acme.io", password_hash=pwd_context.hash(password)))
                s.commit()


        if __name__ == "__main__":
            main()
        ''', pw=S('generic_password', password('words'))))


# ====================================================================== scripts (python)
def gen_py_scripts():
    write('scripts/export_slack.py', T('''
        #!/usr/bin/env python3
        """Export a Slack channel's history to JSON lines (used for the support-bot corpus)."""
        import json
        import sys

        from slack_sdk import WebClient

        SLACK_USER_TOKEN = "«xoxp»"


        def main(channel: str):
            client = WebClient(token=SLACK_USER_TOKEN)
            cursor = None
            while True:
                resp = client.conversations_history(channel=channel, cursor=cursor, limit=200)
                for m in resp["messages"]:
                    print(json.dumps(m))
                cursor = resp.get("response_metadata", {}).get("next_cursor")
                if not cursor:
                    break


        if __name__ == "__main__":
            main(sys.argv[1])
        ''', xoxp=S('slack_user_token', tok_slack_user())))

    write('scripts/jira_sync.py', T('''
        #!/usr/bin/env python3
        import requests

        JIRA = "https://acme.atlassian.net"
        AUTH = ("ops@acme.io", "«atl»")


        def open_incidents():
            r = requests.get(f"{JIRA}/rest/api/3/search", params={"jql": "project = INC AND status != Done"},
                             auth=AUTH, timeout=20)
            r.raise_for_status()
            return r.json()["issues"]


        if __name__ == "__main__":
            for issue in open_incidents():
                print(issue["key"], issue["fields"]["summary"])
        ''', atl=S('atlassian_api_token', tok_atlassian())))

    write('scripts/linear_report.py', T('''
        #!/usr/bin/env python3
        import requests

        QUERY = """{ issues(filter: {state: {type: {eq: "started"}}}) { nodes { identifier title } } }"""

        resp = requests.post(
            "https://api.linear.app/graphql",
            json={"query": QUERY},
            headers={"Authorization": "«lin»"},
            timeout=15,
        )
        for node in resp.json()["data"]["issues"]["nodes"]:
            print(node["identifier"], node["title"])
        ''', lin=S('linear_api_key', tok_linear())))

    write('scripts/alibaba_oss_sync.py', T('''
        #!/usr/bin/env python3
        """Mirror product images to the CN bucket."""
        import oss2

        auth = oss2.Auth("«id»", "«sec»")
        bucket = oss2.Bucket(auth, "https://oss-cn-hangzhou.aliyuncs.com", "acme-cn-assets")

        for obj in oss2.ObjectIterator(bucket, prefix="products/"):
            print(obj.key)
        ''', id=S('alibaba_access_key', tok_alibaba_id()), sec=S('alibaba_access_key', rs(30))))

    write('scripts/replicate_batch.py', T('''
        #!/usr/bin/env python3
        import os

        os.environ.setdefault("REPLICATE_API_TOKEN", "«r8»")

        import replicate  # noqa: E402

        for url in open("images.txt"):
            out = replicate.run("acme/upscaler:latest", input={"image": url.strip()})
            print(out)
        ''', r8=S('replicate_token', tok_replicate())))


# ====================================================================== bots
def gen_bots():
    write('services/bots/discord_bot.py', T('''
        import discord

        TOKEN = "«tok»"
        intents = discord.Intents.default()
        intents.message_content = True
        client = discord.Client(intents=intents)


        @client.event
        async def on_message(message):
            if message.author == client.user:
                return
            if message.content.startswith("!status"):
                await message.channel.send("All systems operational")


        client.run(TOKEN)
        ''', tok=S('discord_bot_token', tok_discord_bot())))

    write('services/bots/telegram_bot.py', T('''
        import os

        from telegram.ext import ApplicationBuilder, CommandHandler

        BOT_TOKEN = os.getenv("TELEGRAM_BOT_TOKEN", "«tg»")


        async def start(update, context):
            await update.message.reply_text("Hi! I post Acme deploy notifications.")


        app = ApplicationBuilder().token(BOT_TOKEN).build()
        app.add_handler(CommandHandler("start", start))
        app.run_polling()
        ''', tg=S('telegram_bot_token', tok_telegram())))

    write('services/bots/config.json', T('''
        {
          "discord": {
            "token": "«dt»",
            "guild_id": "«gid»",
            "alerts_webhook": "«dw»"
          },
          "telegram": {
            "token": "«tg»",
            "chat_id": "-100«chat»"
          }
        }
        ''', dt=S('discord_bot_token', tok_discord_bot()), gid=D('snowflake_id', snowflake()),
        dw=S('discord_webhook', tok_discord_webhook()), tg=S('telegram_bot_token', tok_telegram()),
        chat=digits(10)))
    write('services/bots/requirements.txt', 'discord.py==2.3.2\npython-telegram-bot==21.2\n')


# ====================================================================== services/web (TS/JS)
def gen_web():
    b = 'services/web'
    write(f'{b}/package.json', T('''
        {
          "name": "@acme/web",
          "version": "2.14.3",
          "private": true,
          "scripts": {
            "dev": "next dev",
            "build": "next build",
            "start": "next start",
            "test": "vitest run",
            "deploy": "vercel deploy --prod --token $VERCEL_TOKEN"
          },
          "dependencies": {
            "@supabase/supabase-js": "^2.43.4",
            "@stripe/stripe-js": "^3.4.1",
            "next": "14.2.3",
            "react": "18.3.1",
            "react-dom": "18.3.1"
          },
          "devDependencies": {
            "typescript": "5.4.5",
            "vitest": "1.6.0"
          }
        }
        '''))

    pkgs = [('next', '14.2.3'), ('react', '18.3.1'), ('react-dom', '18.3.1'), ('scheduler', '0.23.2'),
            ('loose-envify', '1.4.0'), ('js-tokens', '4.0.0'), ('@supabase/supabase-js', '2.43.4'),
            ('@stripe/stripe-js', '3.4.1'), ('typescript', '5.4.5'), ('vitest', '1.6.0'),
            ('postcss', '8.4.31'), ('nanoid', '3.3.7')]
    entries = []
    for name, ver in pkgs:
        short = name.split('/')[-1]
        entries.append(T('''
            "node_modules/«n»": {
              "version": "«v»",
              "resolved": "https://registry.npmjs.org/«n»/-/«s»-«v».tgz",
              "integrity": "«i»",
              "license": "MIT"
            }'''.replace('«n»', name).replace('«v»', ver).replace('«s»', short), i=D('lockfile_integrity', sri512())))
    body = ',\n'.join(textwrap.indent(e, '    ') for e in entries)
    write(f'{b}/package-lock.json', '{\n  "name": "@acme/web",\n  "version": "2.14.3",\n  "lockfileVersion": 3,\n'
          '  "requires": true,\n  "packages": {\n    "": {\n      "name": "@acme/web",\n      "version": "2.14.3"\n    },\n'
          + body + '\n  }\n}\n')

    write(f'{b}/tsconfig.json', T('''
        {
          "compilerOptions": {
            "target": "ES2022",
            "lib": ["dom", "dom.iterable", "esnext"],
            "strict": true,
            "module": "esnext",
            "moduleResolution": "bundler",
            "jsx": "preserve",
            "paths": { "@/*": ["./src/*"] }
          },
          "include": ["next-env.d.ts", "**/*.ts", "**/*.tsx"]
        }
        '''))

    write(f'{b}/next.config.js', T('''
        /** @type {import('next').NextConfig} */
        module.exports = {
          reactStrictMode: true,
          env: {
            STRIPE_SECRET_KEY: «e1»,
            SENTRY_AUTH_TOKEN: «e2»,
          },
          images: { domains: ["cdn.acme.io"] },
        };
        ''', e1=D('env_reference', 'process.env.STRIPE_SECRET_KEY'), e2=D('env_reference', 'process.env.SENTRY_AUTH_TOKEN')))

    supa_ref = rs(20, LOWER)
    iat = now_iat()
    anon = jwt({"iss": "supabase", "ref": supa_ref, "role": "anon", "iat": iat, "exp": iat + 315360000})
    svc = jwt({"iss": "supabase", "ref": supa_ref, "role": "service_role", "iat": iat, "exp": iat + 315360000})
    write(f'{b}/.env.local', T('''
        NEXT_PUBLIC_SUPABASE_URL=https://«ref».supabase.co
        NEXT_PUBLIC_SUPABASE_ANON_KEY=«anon»
        SUPABASE_SERVICE_ROLE_KEY=«svc»
        SUPABASE_ACCESS_TOKEN=«sbp»
        NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=«pk»
        STRIPE_RESTRICTED_KEY=«rk»
        NEXT_PUBLIC_MAPBOX_TOKEN=«mpk»
        MAPBOX_SECRET_TOKEN=«msk»
        ALGOLIA_ADMIN_KEY=«aak»
        NEXT_PUBLIC_ALGOLIA_SEARCH_KEY=«ask»
        NEXTAUTH_SECRET=«nas»
        NEXTAUTH_URL=http://localhost:3000
        ''', ref=supa_ref, anon=D('public_anon_jwt', anon), svc=S('jwt', svc), sbp=S('supabase_token', tok_supabase()),
        pk=D('stripe_publishable_key', 'pk_live_51' + rs(97)), rk=S('stripe_restricted_key', tok_stripe('rk_live_')),
        mpk=D('mapbox_public_token', tok_mapbox('pk')), msk=S('mapbox_secret_token', tok_mapbox('sk')),
        aak=S('algolia_admin_key', hexs(32)), ask=D('algolia_search_key', hexs(32)),
        nas=S('generic_secret', b64(rbytes(32)))))

    write(f'{b}/src/config.ts', T('''
        export const config = {
          apiBaseUrl: process.env.NEXT_PUBLIC_API_URL ?? "https://api.acme.io",
          stripePublishableKey: "«pk»",
          sentryDsn: process.env.NEXT_PUBLIC_SENTRY_DSN,
          recaptchaSiteKey: "«rc»",
          gaMeasurementId: "G-«ga»",
        } as const;
        ''', pk=D('stripe_publishable_key', 'pk_live_51' + rs(97)), rc=D('recaptcha_site_key', '6L' + rs(38, B64URL)),
        ga=rs(10, UPPER + DIGITS)))

    svc2 = jwt({"iss": "supabase", "ref": rs(20, LOWER), "role": "service_role", "iat": iat, "exp": iat + 315360000})
    write(f'{b}/src/lib/supabaseAdmin.ts', T('''
        import { createClient } from "@supabase/supabase-js";

        // server-only client; bypasses row level security
        const SERVICE_ROLE = process.env.SUPABASE_SERVICE_ROLE_KEY ?? "«jwt»";

        export const supabaseAdmin = createClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, SERVICE_ROLE, {
          auth: { persistSession: false },
        });
        ''', jwt=S('jwt', svc2)))

    write(f'{b}/src/lib/newsletter.ts', T('''
        const MAILCHIMP_API_KEY = "«mc»";
        const LIST_ID = "«list»";

        export async function subscribe(email: string) {
          const dc = MAILCHIMP_API_KEY.split("-")[1];
          const res = await fetch(`https://${dc}.api.mailchimp.com/3.0/lists/${LIST_ID}/members`, {
            method: "POST",
            headers: { Authorization: `apikey ${MAILCHIMP_API_KEY}` },
            body: JSON.stringify({ email_address: email, status: "pending" }),
          });
          return res.ok;
        }
        ''', mc=S('mailchimp_api_key', tok_mailchimp()), list=hexs(10)))

    write(f'{b}/src/lib/analytics.js', T('''
        export function track(event, props = {}) {
          const anonymousId = localStorage.getItem("ajs_anonymous_id") || "«uuid»";
          window.dataLayer = window.dataLayer || [];
          window.dataLayer.push({ event, anonymousId, ...props });
        }
        ''', uuid=D('uuid_identifier', uuid4())))

    write(f'{b}/src/api/client.ts', T('''
        export async function apiFetch(path: string, token: string, init: RequestInit = {}) {
          const res = await fetch(`${process.env.NEXT_PUBLIC_API_URL}${path}`, {
            ...init,
            headers: { ...init.headers, Authorization: `«tpl»` },
          });
          if (!res.ok) throw new Error(`API ${res.status}`);
          return res.json();
        }
        ''', tpl=D('template_ref', 'Bearer ${token}')))

    logo = b64(png(24, 24))
    write(f'{b}/src/components/Logo.tsx', T('''
        export function Logo() {
          return (
            <img
              alt="Acme"
              width={24}
              height={24}
              src="«uri»"
            />
          );
        }
        ''', uri=D('data_uri_image', 'data:image/png;base64,' + logo)))

    write(f'{b}/src/components/Button.tsx', T('''
        type Props = React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: "primary" | "ghost" };

        export function Button({ variant = "primary", className = "", ...rest }: Props) {
          return <button className={`btn btn-${variant} ${className}`} {...rest} />;
        }
        '''))
    write(f'{b}/src/components/Header.tsx', T('''
        import { Logo } from "./Logo";

        export function Header() {
          return (
            <header className="flex items-center gap-2 p-4">
              <Logo />
              <nav>
                <a href="/products">Products</a> · <a href="/pricing">Pricing</a>
              </nav>
            </header>
          );
        }
        '''))
    write(f'{b}/src/pages/index.tsx', T('''
        import { Header } from "@/components/Header";

        export default function Home() {
          return (
            <main>
              <Header />
              <h1>Everything you need to sell online.</h1>
            </main>
          );
        }
        '''))
    write(f'{b}/src/hooks/useAuth.ts', T('''
        import { useEffect, useState } from "react";

        export function useAuth() {
          const [token, setToken] = useState<string | null>(null);
          useEffect(() => setToken(localStorage.getItem("access_token")), []);
          return { token, isLoggedIn: token !== null };
        }
        '''))
    write(f'{b}/src/pages/api/revalidate.ts', T('''
        import type { NextApiRequest, NextApiResponse } from "next";

        export default async function handler(req: NextApiRequest, res: NextApiResponse) {
          if (req.query.secret !== «ref») {
            return res.status(401).json({ message: "Invalid token" });
          }
          await res.revalidate(String(req.query.path ?? "/"));
          return res.json({ revalidated: true });
        }
        ''', ref=D('env_reference', 'process.env.REVALIDATE_SECRET')))

    # minified vendor bundle: long identifiers, hashes, base64 chunks, and one leaked key
    ident = '_' + rs(3, LOWER) + rs(37)
    chunk_b64 = b64(rbytes(90))
    mod_hash = hexs(20)
    rk = tok_stripe('rk_live_')
    minified = ('/*! acme-vendor v2.14.3 | (c) Acme | MIT */\n'
                '!function(e,t){"object"==typeof exports&&"undefined"!=typeof module?module.exports=t():"function"==typeof define&&define.amd?define(t):(e=e||self).AcmeVendor=t()}(this,function(){"use strict";'
                'var n={' + '"' + D('minified_identifier', mod_hash) + '"' + ':function(e,t,n){t.a=function(e){return e.replace(/[&<>"]/g,function(e){return{"&":"&amp;","<":"&lt;",">":"&gt;",\'"\':"&quot;"}[e]})}},'
                '"' + hexs(20) + '":function(e,t){var ' + D('minified_identifier', ident) + '=function(e){return atob(e)};'
                't.b=' + ident + '("' + D('base64_blob', chunk_b64) + '")}};'
                'function r(e){var t=o[e];if(void 0!==t)return t.exports;var i=o[e]={exports:{}};return n[e](i,i.exports,r),i.exports}var o={};'
                'var s={apiBase:"https://api.acme.io",stripeKey:"' + S('stripe_restricted_key', rk) + '",sentry:{release:"' + D('git_commit_sha', sha1hex()) + '"}};'
                'return{require:r,settings:s}});\n'
                '//# sourceMappingURL=vendor.min.js.map\n')
    write(f'{b}/public/vendor.min.js', minified)

    write(f'{b}/public/index.html', T('''
        <!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta http-equiv="Content-Security-Policy" content="script-src 'self' '«csp»'" />
            <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css"
                  integrity="«s1»" crossorigin="anonymous" />
            <script src="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/js/bootstrap.bundle.min.js"
                    integrity="«s2»" crossorigin="anonymous"></script>
            <title>Acme</title>
          </head>
          <body><div id="__next"></div></body>
        </html>
        ''', csp=D('csp_hash', 'sha256-' + b64(rbytes(32))), s1=D('sri_hash', sri384()), s2=D('sri_hash', sri384())))

    write(f'{b}/src/styles/fonts.css', T('''
        @font-face {
          font-family: "AcmeIcons";
          font-display: block;
          src: url("«font»") format("woff2");
        }
        .icon { font-family: "AcmeIcons"; }
        ''', font=D('data_uri_font', 'data:font/woff2;base64,d09GMgABAAAAA' + b64(rbytes(300)))))

    write(f'{b}/.yarnrc.yml', T('''
        nodeLinker: node-modules
        npmRegistryServer: "https://registry.npmjs.org"
        npmAuthToken: "«npm»"
        ''', npm=S('npm_token', tok_npm())))


# ====================================================================== services/worker (Go)
def gen_worker(apns_key):
    b = 'services/worker'
    write(f'{b}/go.mod', T('''
        module github.com/acme/platform/services/worker

        go 1.22

        require (
        	github.com/jackc/pgx/v5 v5.5.5
        	github.com/rabbitmq/amqp091-go v1.10.0
        	github.com/redis/go-redis/v9 v9.5.1
        	github.com/slack-go/slack v0.13.0
        	golang.org/x/sync v0.7.0
        )
        '''))
    mods = [('github.com/jackc/pgx/v5', 'v5.5.5'), ('github.com/rabbitmq/amqp091-go', 'v1.10.0'),
            ('github.com/redis/go-redis/v9', 'v9.5.1'), ('github.com/slack-go/slack', 'v0.13.0'),
            ('golang.org/x/sync', 'v0.7.0'), ('github.com/gorilla/websocket', 'v1.5.1')]
    lines = []
    for m, v in mods:
        lines.append(f'{m} {v} h1:' + D('lockfile_hash', b64(rbytes(32))))
        lines.append(f'{m} {v}/go.mod h1:' + D('lockfile_hash', b64(rbytes(32))))
    write(f'{b}/go.sum', '\n'.join(lines) + '\n')

    write(f'{b}/main.go', T('''
        package main

        import (
        	"context"
        	"log"
        	"os/signal"
        	"syscall"

        	"github.com/acme/platform/services/worker/config"
        	"github.com/acme/platform/services/worker/internal/queue"
        )

        func main() {
        	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
        	defer stop()
        	cfg := config.Load()
        	if err := queue.Consume(ctx, cfg); err != nil {
        		log.Fatal(err)
        	}
        }
        '''))

    write(f'{b}/config/config.go', T('''
        package config

        import "os"

        type Config struct {
        	DSN      string
        	RedisURL string
        	AMQPURL  string
        }

        func getenv(k, def string) string {
        	if v, ok := os.LookupEnv(k); ok {
        		return v
        	}
        	return def
        }

        func Load() Config {
        	return Config{
        		DSN:      getenv("DATABASE_URL", "«pg»"),
        		RedisURL: getenv("REDIS_URL", "«redis»"),
        		AMQPURL:  os.Getenv("AMQP_URL"),
        	}
        }
        ''', pg=S('postgres_url', f'postgres://worker:{url_password()}@10.20.4.17:5432/acme?sslmode=require'),
        redis=S('redis_url', f'rediss://default:{url_password()}@cache.acme.internal:6380/2')))

    write(f'{b}/internal/queue/amqp.go', T('''
        package queue

        import (
        	amqp "github.com/rabbitmq/amqp091-go"
        )

        const defaultAMQP = "«amqp»"

        func dial(url string) (*amqp.Connection, error) {
        	if url == "" {
        		url = defaultAMQP
        	}
        	return amqp.Dial(url)
        }
        ''', amqp=S('amqp_url', f'amqps://worker:{url_password()}@b-3f1c2a.mq.eu-west-1.amazonaws.com:5671/acme')))

    write(f'{b}/internal/queue/consumer.go', T('''
        package queue

        import (
        	"context"
        	"log"

        	"github.com/acme/platform/services/worker/config"
        )

        func Consume(ctx context.Context, cfg config.Config) error {
        	conn, err := dial(cfg.AMQPURL)
        	if err != nil {
        		return err
        	}
        	defer conn.Close()
        	ch, err := conn.Channel()
        	if err != nil {
        		return err
        	}
        	msgs, err := ch.Consume("jobs", "worker", false, false, false, false, nil)
        	if err != nil {
        		return err
        	}
        	for {
        		select {
        		case <-ctx.Done():
        			return nil
        		case m := <-msgs:
        			log.Printf("job %s", m.MessageId)
        			_ = m.Ack(false)
        		}
        	}
        }
        '''))

    write(f'{b}/internal/notify/slack.go', T('''
        package notify

        import (
        	"os"

        	"github.com/slack-go/slack"
        )

        var slackToken = "«xoxb»"

        func client() *slack.Client {
        	if t := «env»; t != "" {
        		return slack.New(t)
        	}
        	return slack.New(slackToken)
        }

        func Post(channel, text string) error {
        	_, _, err := client().PostMessage(channel, slack.MsgOptionText(text, false))
        	return err
        }
        ''', xoxb=S('slack_bot_token', tok_slack_bot()), env=D('env_reference', 'os.Getenv("SLACK_BOT_TOKEN")')))

    write(f'{b}/internal/notify/discord.go', T('''
        package notify

        import (
        	"bytes"
        	"encoding/json"
        	"net/http"
        )

        const alertsWebhook = "«dw»"

        func Discord(text string) error {
        	body, _ := json.Marshal(map[string]string{"content": text})
        	_, err := http.Post(alertsWebhook, "application/json", bytes.NewReader(body))
        	return err
        }
        ''', dw=S('discord_webhook', tok_discord_webhook())))

    write(f'{b}/internal/gh/client.go', T('''
        package gh

        import (
        	"net/http"
        )

        // installation token for the acme-deploy-bot GitHub App
        const token = "«ghs»"

        func NewRequest(method, url string) (*http.Request, error) {
        	req, err := http.NewRequest(method, url, nil)
        	if err != nil {
        		return nil, err
        	}
        	req.Header.Set("Authorization", "Bearer "+token)
        	req.Header.Set("Accept", "application/vnd.github+json")
        	return req, nil
        }
        ''', ghs=S('github_app_token', tok_github('ghs_'))))

    write(f'{b}/internal/apns/key.go', T('''
        package apns

        // AuthKey_«kid».p8 from the Apple developer portal
        const keyID = "«kid»"
        const teamID = "«team»"

        const authKey = `«p8»`
        ''', kid=rs(10, UPPER + DIGITS), team=rs(10, UPPER + DIGITS),
        p8=SB('private_key_pkcs8', pem('PRIVATE KEY', apns_key.pkcs8()))))

    write(f'{b}/internal/version/version.go', T('''
        package version

        // Set via -ldflags at build time; these are the values of the last release build.
        var (
        	Version = "2.14.3"
        	Commit  = "«sha»"
        	Date    = "2024-05-28T09:14:02Z"
        )
        ''', sha=D('git_commit_sha', sha1hex())))

    write(f'{b}/internal/storage/s3.go', T('''
        package storage

        import (
        	"context"
        	"os"

        	"github.com/aws/aws-sdk-go-v2/aws"
        	"github.com/aws/aws-sdk-go-v2/credentials"
        	"github.com/aws/aws-sdk-go-v2/service/s3"
        )

        func New(ctx context.Context) *s3.Client {
        	creds := credentials.NewStaticCredentialsProvider(
        		«e1»,
        		«e2»,
        		"",
        	)
        	return s3.New(s3.Options{Region: "eu-west-1", Credentials: aws.NewCredentialsCache(creds)})
        }
        ''', e1=D('env_reference', 'os.Getenv("AWS_ACCESS_KEY_ID")'), e2=D('env_reference', 'os.Getenv("AWS_SECRET_ACCESS_KEY")')))

    write(f'{b}/Dockerfile', T('''
        FROM golang:1.22-alpine@«dg» AS build
        WORKDIR /src
        COPY go.mod go.sum ./
        RUN go mod download
        COPY . .
        RUN CGO_ENABLED=0 go build -ldflags "-s -w" -o /out/worker .

        FROM gcr.io/distroless/static-debian12
        ENV DOPPLER_TOKEN=«dp»
        COPY --from=build /out/worker /worker
        ENTRYPOINT ["/worker"]
        ''', dg=D('docker_digest', docker_digest()), dp=S('doppler_token', tok_doppler('st'))))


# ====================================================================== services/billing (Java)
def gen_billing():
    b = 'services/billing'
    write(f'{b}/pom.xml', T('''
        <?xml version="1.0" encoding="UTF-8"?>
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <parent>
            <groupId>org.springframework.boot</groupId>
            <artifactId>spring-boot-starter-parent</artifactId>
            <version>3.2.5</version>
          </parent>
          <groupId>io.acme</groupId>
          <artifactId>billing</artifactId>
          <version>2.14.3</version>
          <dependencies>
            <dependency>
              <groupId>com.braintreepayments.gateway</groupId>
              <artifactId>braintree-java</artifactId>
              <version>3.32.0</version>
            </dependency>
            <dependency>
              <groupId>com.squareup</groupId>
              <artifactId>square</artifactId>
              <version>38.1.0.20240320</version>
            </dependency>
          </dependencies>
        </project>
        '''))

    write(f'{b}/src/main/resources/application.properties', T('''
        spring.application.name=billing
        spring.datasource.url=jdbc:postgresql://billing-db.acme.internal:5432/billing
        spring.datasource.username=billing_app
        spring.datasource.password=«pw»
        stripe.restricted-key=«rk»
        braintree.environment=production
        braintree.access-token=«bt»
        spring.security.oauth2.client.registration.okta.client-secret=«ref»
        management.endpoint.health.show-details=never
        ''', pw=S('generic_password', password()), rk=S('stripe_restricted_key', tok_stripe('rk_live_')),
        bt=S('braintree_token', tok_braintree()), ref=D('template_ref', '${OKTA_CLIENT_SECRET}')))

    write(f'{b}/src/main/resources/application-prod.yml', T('''
        square:
          environment: production
          access-token: «sq»
          application-secret: «sqs»
        okta:
          org-url: https://acme.okta.com
          api-token: «okta»
        spring:
          rabbitmq:
            addresses: «amqp»
          jpa:
            open-in-view: false
        ''', sq=S('square_token', tok_square('access')), sqs=S('square_token', tok_square('oauth_secret')),
        okta=S('okta_api_token', tok_okta()),
        amqp=S('amqp_url', f'amqps://billing:{url_password()}@rabbit.acme.internal:5671/billing')))

    write(f'{b}/src/main/java/io/acme/billing/BraintreeConfig.java', T('''
        package io.acme.billing;

        import com.braintreegateway.BraintreeGateway;
        import org.springframework.context.annotation.Bean;
        import org.springframework.context.annotation.Configuration;

        @Configuration
        public class BraintreeConfig {

            // PayPal-issued access token for the production merchant account
            private static final String ACCESS_TOKEN = "«bt»";

            @Bean
            public BraintreeGateway braintreeGateway() {
                return new BraintreeGateway(ACCESS_TOKEN);
            }
        }
        ''', bt=S('braintree_token', tok_braintree())))

    write(f'{b}/src/main/java/io/acme/billing/PaymentService.java', T('''
        package io.acme.billing;

        import org.springframework.beans.factory.annotation.Value;
        import org.springframework.stereotype.Service;

        @Service
        public class PaymentService {

            @Value("«ref»")
            private String squareToken;

            @Value("${stripe.restricted-key}")
            private String stripeKey;

            public boolean isConfigured() {
                return squareToken != null && !squareToken.isBlank() && stripeKey != null;
            }
        }
        ''', ref=D('template_ref', '${square.access-token}')))

    write(f'{b}/src/main/java/io/acme/billing/Invoice.java', T('''
        package io.acme.billing;

        import java.math.BigDecimal;
        import java.time.Instant;
        import java.util.UUID;

        public record Invoice(UUID id, String customerId, BigDecimal amount, String currency, Instant issuedAt) {
            public Invoice {
                if (amount.signum() < 0) throw new IllegalArgumentException("negative amount");
            }
        }
        '''))

    write(f'{b}/src/test/java/io/acme/billing/InvoiceTest.java', T('''
        package io.acme.billing;

        import static org.junit.jupiter.api.Assertions.assertThrows;

        import java.math.BigDecimal;
        import java.time.Instant;
        import java.util.UUID;
        import org.junit.jupiter.api.Test;

        class InvoiceTest {
            private static final UUID FIXED_ID = UUID.fromString("«u»");

            @Test
            void rejectsNegativeAmounts() {
                assertThrows(IllegalArgumentException.class,
                    () -> new Invoice(FIXED_ID, "cust-1", new BigDecimal("-1"), "EUR", Instant.EPOCH));
            }
        }
        ''', u=D('uuid_identifier', uuid4())))

    write(f'{b}/ci/settings.xml', T('''
        <settings>
          <servers>
            <server>
              <id>acme-nexus</id>
              <username>deploy</username>
              <password>«pw»</password>
            </server>
            <server>
              <id>acme-nexus-snapshots</id>
              <username>deploy</username>
              <password>«ref»</password>
            </server>
          </servers>
        </settings>
        ''', pw=S('generic_password', password()), ref=D('template_ref', '${env.NEXUS_PASSWORD}')))

    write(f'{b}/src/main/resources/keys/sftp-partner.key', SB('private_key_encrypted', encrypted_pkcs8()) + '\n')


# ====================================================================== services/legacy (PHP)
def gen_legacy():
    b = 'services/legacy'
    write(f'{b}/composer.json', T('''
        {
            "name": "acme/legacy-shop",
            "require": {
                "php": "^8.1",
                "vlucas/phpdotenv": "^5.6",
                "sendgrid/sendgrid": "^8.1",
                "square/square": "^35.1"
            }
        }
        '''))
    pk = [('vlucas/phpdotenv', 'v5.6.0'), ('sendgrid/sendgrid', '8.1.1'), ('square/square', '35.1.0'),
          ('guzzlehttp/guzzle', '7.8.1')]
    ents = []
    for name, ver in pk:
        ents.append(T('''
            {
                "name": "«n»",
                "version": "«v»",
                "source": {
                    "type": "git",
                    "url": "https://github.com/«n».git",
                    "reference": "«r»"
                },
                "type": "library"
            }'''.replace('«n»', name).replace('«v»', ver), r=D('git_commit_sha', sha1hex())))
    write(f'{b}/composer.lock', '{\n    "_readme": ["This file locks the dependencies of your project to a known state"],\n'
          '    "content-hash": "' + D('lockfile_hash', hexs(32)) + '",\n    "packages": [\n'
          + ',\n'.join(textwrap.indent(e, '        ') for e in ents) + '\n    ]\n}\n')

    write(f'{b}/wp-config.php', T('''
        <?php
        /** WordPress configuration for the marketing blog (blog.acme.io). */
        define( 'DB_NAME', 'wp_acme' );
        define( 'DB_USER', 'wp_acme' );
        define( 'DB_PASSWORD', '«pw»' );
        define( 'DB_HOST', 'mysql.acme.internal' );
        define( 'DB_CHARSET', 'utf8mb4' );

        require_once __DIR__ . '/salts.php';

        $table_prefix = 'wp_';
        define( 'WP_DEBUG', false );

        if ( ! defined( 'ABSPATH' ) ) {
            define( 'ABSPATH', __DIR__ . '/' );
        }
        require_once ABSPATH . 'wp-settings.php';
        ''', pw=S('generic_password', password())))

    write(f'{b}/config/database.php', T('''
        <?php

        return [
            'default' => env('DB_CONNECTION', 'mysql'),
            'connections' => [
                'mysql' => [
                    'driver' => 'mysql',
                    'url' => env('DATABASE_URL', '«my»'),
                    'host' => env('DB_HOST', '127.0.0.1'),
                    'username' => env('DB_USERNAME', 'shop'),
                    'password' => «ref»,
                    'charset' => 'utf8mb4',
                ],
            ],
        ];
        ''', my=S('mysql_url', f'mysql://shop:{url_password()}@legacy-db.acme.internal:3306/shop'),
        ref=D('env_reference', "env('DB_PASSWORD', '')")))

    write(f'{b}/config/mail.php', T('''
        <?php

        return [
            'driver' => 'sendgrid',
            'from' => ['address' => 'shop@acme.io', 'name' => 'Acme Shop'],
            'sendgrid' => [
                'api_key' => '«sg»',
            ],
        ];
        ''', sg=S('sendgrid_api_key', tok_sendgrid())))

    write(f'{b}/config/payments.php', T('''
        <?php

        return [
            'square' => [
                'environment' => 'production',
                'access_token' => '«sq»',
                'location_id' => '«loc»',
            ],
        ];
        ''', sq=S('square_token', tok_square('pat')), loc=rs(13, UPPER + DIGITS)))

    write(f'{b}/.env', T('''
        APP_NAME="Acme Shop"
        APP_ENV=production
        APP_KEY=base64:«ak»
        APP_DEBUG=false
        DATABASE_URL=«my»
        MAILGUN_DOMAIN=mg.acme.io
        MAILGUN_SECRET=«mg»
        STRIPE_SECRET=«sk»
        MAILCHIMP_APIKEY=«mc»
        ''', mc=S('mailchimp_api_key', tok_mailchimp()), ak=S('generic_secret', b64(rbytes(32))),
        my=S('mysql_url', f'mysql://shop_rw:{url_password()}@10.20.7.31:3306/shop'),
        mg=S('mailgun_api_key', tok_mailgun()), sk=S('stripe_secret_key', tok_stripe('sk_live_', long=False))))

    write(f'{b}/public/index.php', T('''
        <?php
        declare(strict_types=1);

        require __DIR__ . '/../vendor/autoload.php';

        $dotenv = Dotenv\\Dotenv::createImmutable(dirname(__DIR__));
        $dotenv->load();

        $router = require __DIR__ . '/../routes.php';
        $router->dispatch($_SERVER['REQUEST_METHOD'], parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
        '''))


# ====================================================================== services/admin (Ruby)
def gen_admin():
    b = 'services/admin'
    write(f'{b}/Gemfile', T('''
        source "https://rubygems.org"

        ruby "3.3.1"
        gem "rails", "~> 7.1.3"
        gem "pg", "~> 1.5"
        gem "mongoid", "~> 9.0"
        gem "sentry-ruby"
        gem "sentry-rails"
        gem "mailgun-ruby", "~> 1.2"
        gem "notion-ruby-client"
        gem "slack-ruby-client"
        '''))
    write(f'{b}/Gemfile.lock', T('''
        GEM
          remote: https://rubygems.org/
          specs:
            actioncable (7.1.3.4)
            mongoid (9.0.0)
            pg (1.5.6)
            rails (7.1.3.4)
            sentry-rails (5.17.3)
            sentry-ruby (5.17.3)

        PLATFORMS
          x86_64-linux

        DEPENDENCIES
          mongoid (~> 9.0)
          pg (~> 1.5)
          rails (~> 7.1.3)

        RUBY VERSION
           ruby 3.3.1p55

        BUNDLED WITH
           2.5.9
        '''))

    write(f'{b}/config/database.yml', T('''
        default: &default
          adapter: postgresql
          encoding: unicode
          pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
          username: <%= ENV.fetch("DB_USER") { "acme_admin" } %>
          password: «ref»

        development:
          <<: *default
          database: acme_admin_dev

        production:
          <<: *default
          host: admin-db.acme.internal
          database: acme_admin
          password: «pw»
        ''', ref=D('template_ref', '<%= ENV["DB_PASSWORD"] %>'), pw=S('generic_password', password())))

    write(f'{b}/config/mongoid.yml', T('''
        production:
          clients:
            default:
              uri: «mg»
              options:
                server_selection_timeout: 5
        ''', mg=S('mongodb_url', f'mongodb+srv://admin-app:{url_password()}@cluster0.{rs(5, LOWER + DIGITS)}.mongodb.net/acme?retryWrites=true&w=majority')))

    write(f'{b}/config/initializers/sentry.rb', T('''
        Sentry.init do |config|
          config.dsn = '«dsn»'
          config.breadcrumbs_logger = [:active_support_logger, :http_logger]
          config.traces_sample_rate = 0.1
          config.release = ENV.fetch("GIT_SHA", "dev")
        end
        ''', dsn=S('sentry_dsn', tok_sentry_dsn())))

    write(f'{b}/config/initializers/mailer.rb', T('''
        ActionMailer::Base.smtp_settings = {
          user_name: "apikey",
          password: "«sg»",
          domain: "acme.io",
          address: "smtp.sendgrid.net",
          port: 587,
          authentication: :plain,
          enable_starttls_auto: true
        }
        ''', sg=S('sendgrid_api_key', tok_sendgrid())))

    write(f'{b}/config/environments/production.rb', T('''
        require "active_support/core_ext/integer/time"

        Rails.application.configure do
          config.cache_classes = true
          config.eager_load = true
          config.force_ssl = true
          config.log_level = :info
          config.action_mailer.delivery_method = :mailgun
          config.action_mailer.mailgun_settings = {
            api_key: "«mg»",
            domain: "mg.acme.io",
            api_host: "api.eu.mailgun.net"
          }
        end
        ''', mg=S('mailgun_api_key', tok_mailgun())))

    write(f'{b}/config/storage.yml', T('''
        amazon:
          service: S3
          access_key_id: <%= Rails.application.credentials.dig(:aws, :access_key_id) %>
          secret_access_key: «ref»
          region: eu-west-1
          bucket: acme-admin-uploads
        ''', ref=D('template_ref', '<%= Rails.application.credentials.dig(:aws, :secret_access_key) %>')))

    write(f'{b}/app/services/notion_sync.rb', T('''
        require "notion-ruby-client"

        class NotionSync
          NOTION_TOKEN = ENV.fetch("NOTION_TOKEN", "«ntn»")
          DATABASE_ID = "«db»"

          def initialize
            @client = Notion::Client.new(token: NOTION_TOKEN)
          end

          def changelog_entries
            @client.database_query(database_id: DATABASE_ID)["results"]
          end
        end
        ''', ntn=S('notion_token', tok_notion('ntn')), db=D('uuid_identifier', uuid4().replace('-', ''))))

    write(f'{b}/app/services/slack_notifier.rb', T('''
        class SlackNotifier
          def initialize(channel = "#ops")
            @client = Slack::Web::Client.new(token: ENV.fetch("SLACK_BOT_TOKEN"))
            @channel = channel
          end

          def post(text)
            @client.chat_postMessage(channel: @channel, text: text)
          end
        end
        '''))

    write(f'{b}/config/master.key', S('rails_master_key', hexs(32)))
    enc = b64(rbytes(R.randint(380, 520))) + '--' + b64(rbytes(12)) + '--' + b64(rbytes(16))
    write(f'{b}/config/credentials.yml.enc', D('encrypted_blob', enc))

    write(f'{b}/Dockerfile', T('''
        FROM ruby:3.3.1-slim
        ENV RAILS_ENV=production \\
            RAILS_MASTER_KEY=«mk» \\
            BUNDLE_WITHOUT=development:test
        WORKDIR /app
        COPY Gemfile Gemfile.lock ./
        RUN bundle install --jobs 4
        COPY . .
        RUN bin/rails assets:precompile
        CMD ["bin/rails", "server", "-b", "0.0.0.0"]
        ''', mk=S('rails_master_key', hexs(32))))


# ====================================================================== services/reports (C#)
def gen_reports():
    b = 'services/reports'
    write(f'{b}/Reports.csproj', T('''
        <Project Sdk="Microsoft.NET.Sdk.Web">
          <PropertyGroup>
            <TargetFramework>net8.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ProjectGuid>{«g»}</ProjectGuid>
            <UserSecretsId>«us»</UserSecretsId>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Azure.Storage.Blobs" Version="12.19.1" />
            <PackageReference Include="Microsoft.Identity.Web" Version="2.18.1" />
            <PackageReference Include="SendGrid" Version="9.29.3" />
          </ItemGroup>
        </Project>
        ''', g=D('uuid_identifier', uuid4().upper()), us=D('uuid_identifier', uuid4())))

    acct_key = tok_azure_storage_key()
    write(f'{b}/appsettings.json', T('''
        {
          "Logging": { "LogLevel": { "Default": "Information" } },
          "ConnectionStrings": {
            "ReportsDb": "«sql»",
            "Storage": "DefaultEndpointsProtocol=https;AccountName=acmereports;AccountKey=«ak»;EndpointSuffix=core.windows.net"
          },
          "AzureAd": {
            "Instance": "https://login.microsoftonline.com/",
            "TenantId": "«t»",
            "ClientId": "«c»",
            "ClientSecret": "«cs»"
          },
          "AllowedHosts": "*"
        }
        ''', sql=S('mssql_connection_string', f'Server=tcp:acme-reports.database.windows.net,1433;Initial Catalog=reports;User ID=reports_app;Password={password()};Encrypt=True;'),
        ak=S('azure_storage_key', acct_key), t=D('uuid_identifier', uuid4()), c=D('uuid_identifier', uuid4()),
        cs=S('azure_client_secret', tok_azure_client_secret())))

    write(f'{b}/appsettings.Development.json', T('''
        {
          "ConnectionStrings": {
            "ReportsDb": "Server=(localdb)\\\\MSSQLLocalDB;Database=reports;Trusted_Connection=True;",
            "Storage": "UseDevelopmentStorage=true",
            "StorageExplicit": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=«az»;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
          }
        }
        ''', az=D('azurite_dev_key', AZURITE_KEY)))

    write(f'{b}/Program.cs', T('''
        using Azure.Storage.Blobs;
        using SendGrid;

        var builder = WebApplication.CreateBuilder(args);

        var stripeKey = «r1»;
        var sendgrid = new SendGridClient(«r2»);
        var sql = builder.Configuration.GetConnectionString("ReportsDb")
                  ?? "«sql»";

        builder.Services.AddSingleton(new BlobServiceClient(builder.Configuration.GetConnectionString("Storage")));
        builder.Services.AddSingleton(sendgrid);

        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
        app.Run();
        ''', r1=D('env_reference', 'builder.Configuration["Stripe:SecretKey"]'),
        r2=D('env_reference', 'Environment.GetEnvironmentVariable("SENDGRID_API_KEY")'),
        sql=S('mssql_connection_string', f'Server=10.20.9.4;Database=reports;User Id=sa;Password={password()};TrustServerCertificate=True')))

    write(f'{b}/NuGet.config', T('''
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
            <add key="acme" value="https://pkgs.dev.azure.com/acme/_packaging/acme/nuget/v3/index.json" />
          </packageSources>
          <packageSourceCredentials>
            <acme>
              <add key="Username" value="ci" />
              <add key="ClearTextPassword" value="«pw»" />
            </acme>
          </packageSourceCredentials>
        </configuration>
        ''', pw=S('generic_password', rs(52, LOWER + DIGITS))))

    write(f'{b}/Services/BlobExporter.cs', T('''
        using Azure.Storage.Blobs;

        namespace Acme.Reports.Services;

        public sealed class BlobExporter(BlobServiceClient blobs)
        {
            public async Task ExportAsync(string name, Stream content, CancellationToken ct)
            {
                var container = blobs.GetBlobContainerClient("exports");
                await container.CreateIfNotExistsAsync(cancellationToken: ct);
                await container.UploadBlobAsync(name, content, ct);
            }
        }
        '''))
    write(f'{b}/Properties/launchSettings.json', T('''
        {
          "profiles": {
            "Reports": {
              "commandName": "Project",
              "applicationUrl": "http://localhost:5080",
              "environmentVariables": { "ASPNETCORE_ENVIRONMENT": "Development" }
            }
          }
        }
        '''))


# ====================================================================== tools/cli (Rust)
def gen_cli():
    b = 'tools/cli'
    write(f'{b}/Cargo.toml', T('''
        [package]
        name = "acmectl"
        version = "0.9.2"
        edition = "2021"

        [dependencies]
        anyhow = "1"
        clap = { version = "4.5", features = ["derive"] }
        reqwest = { version = "0.12", default-features = false, features = ["json", "rustls-tls"] }
        serde = { version = "1", features = ["derive"] }
        tokio = { version = "1", features = ["full"] }
        '''))
    crates = [('anyhow', '1.0.86'), ('clap', '4.5.4'), ('reqwest', '0.12.4'), ('serde', '1.0.203'),
              ('tokio', '1.37.0'), ('bytes', '1.6.0'), ('itoa', '1.0.11'), ('memchr', '2.7.2')]
    parts = ['# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 3\n']
    for n, v in crates:
        parts.append(f'[[package]]\nname = "{n}"\nversion = "{v}"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n'
                     f'checksum = "' + D('lockfile_hash', sha256hex()) + '"\n')
    parts.append('[[package]]\nname = "acmectl"\nversion = "0.9.2"\n')
    write(f'{b}/Cargo.lock', '\n'.join(parts))

    write(f'{b}/src/main.rs', T('''
        use clap::{Parser, Subcommand};

        mod config;
        mod upload;

        #[derive(Parser)]
        #[command(name = "acmectl", version)]
        struct Cli {
            #[command(subcommand)]
            cmd: Cmd,
        }

        #[derive(Subcommand)]
        enum Cmd {
            /// List open pull requests
            Prs,
            /// Purge the CDN cache
            Purge { url: String },
        }

        #[tokio::main]
        async fn main() -> anyhow::Result<()> {
            let cli = Cli::parse();
            let cfg = config::Config::load();
            match cli.cmd {
                Cmd::Prs => upload::list_prs(&cfg).await,
                Cmd::Purge { url } => upload::purge(&cfg, &url).await,
            }
        }
        '''))

    write(f'{b}/src/config.rs', T('''
        pub struct Config {
            pub github_token: String,
            pub do_token: String,
        }

        const DEFAULT_GH_TOKEN: &str = "«gho»";
        const DO_TOKEN: &str = "«dop»";

        impl Config {
            pub fn load() -> Self {
                Config {
                    github_token: std::env::var("GITHUB_TOKEN").unwrap_or_else(|_| DEFAULT_GH_TOKEN.to_string()),
                    do_token: std::env::var("DIGITALOCEAN_TOKEN").unwrap_or_else(|_| DO_TOKEN.to_string()),
                }
            }
        }
        ''', gho=S('github_oauth_token', tok_github('gho_')), dop=S('digitalocean_token', tok_do())))

    write(f'{b}/src/upload.rs', T('''
        use crate::config::Config;

        const CLOUDFLARE_API_TOKEN: &str = "«cf»";
        const ZONE_ID: &str = "«zone»";

        pub async fn purge(_cfg: &Config, url: &str) -> anyhow::Result<()> {
            let client = reqwest::Client::new();
            client
                .post(format!("https://api.cloudflare.com/client/v4/zones/{ZONE_ID}/purge_cache"))
                .bearer_auth(CLOUDFLARE_API_TOKEN)
                .json(&serde_json::json!({ "files": [url] }))
                .send()
                .await?
                .error_for_status()?;
            Ok(())
        }

        pub async fn list_prs(cfg: &Config) -> anyhow::Result<()> {
            let client = reqwest::Client::new();
            let body = client
                .get("https://api.github.com/repos/acme/platform/pulls")
                .header("User-Agent", "acmectl")
                .bearer_auth(&cfg.github_token)
                .send()
                .await?
                .text()
                .await?;
            println!("{body}");
            Ok(())
        }
        ''', cf=S('cloudflare_api_token', tok_cloudflare()), zone=D('cloudflare_zone_id', hexs(32))))
    write(f'{b}/src/lib.rs', '//! Shared helpers for acmectl.\n\npub fn user_agent() -> &\'static str {\n    concat!("acmectl/", env!("CARGO_PKG_VERSION"))\n}\n')


# ====================================================================== shell scripts
def gen_shell(pgp_priv_block):
    write('scripts/deploy.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail

        # batch token minted by the bootstrap job; valid for the deploy window only
        export VAULT_ADDR=https://vault.acme.internal:8200
        export VAULT_TOKEN=«hvb»

        DB_PASSWORD="$(vault kv get -field=password secret/acme/api/db)"
        export DB_PASSWORD

        helm upgrade --install acme infra/helm/acme -f infra/helm/acme/values-prod.yaml \\
          --set db.password="${DB_PASSWORD}" --wait
        ''', hvb=S('vault_token', tok_vault('hvb'))))

    write('scripts/backup_db.sh', T('''
        #!/usr/bin/env bash
        # Nightly logical backup of the primary database to S3.
        set -euo pipefail

        export AWS_ACCESS_KEY_ID=«id»
        export AWS_SECRET_ACCESS_KEY=«sec»
        export AWS_DEFAULT_REGION=eu-west-1

        STAMP=$(date -u +%Y%m%dT%H%M%SZ)
        PGPASSWORD='«pw»' pg_dump -h db.prod.acme.internal -U backup -Fc acme > "/tmp/acme-${STAMP}.dump"
        aws s3 cp "/tmp/acme-${STAMP}.dump" "s3://acme-backups/postgres/${STAMP}.dump" --sse aws:kms
        rm -f "/tmp/acme-${STAMP}.dump"
        ''', id=S('aws_access_key_id', tok_aws_id()), sec=S('aws_secret_access_key', tok_aws_secret()),
        pw=S('generic_password', password())))

    write('scripts/release.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        TAG="$1"

        curl -sf -X POST \\
          -H "Accept: application/vnd.github+json" \\
          -H "Authorization: token «ghp»" \\
          https://api.github.com/repos/acme/platform/releases \\
          -d "{\\"tag_name\\":\\"${TAG}\\",\\"generate_release_notes\\":true}"
        ''', ghp=S('github_pat', tok_github('ghp_'))))

    write('scripts/mirror.sh', T('''
        #!/usr/bin/env bash
        # Keep the GitLab and Bitbucket mirrors in sync with GitHub.
        set -euo pipefail
        git push --mirror https://oauth2:«gl»@gitlab.com/acme/platform.git
        git push --mirror https://acme-mirror:«bb»@bitbucket.org/acme/platform.git
        ''', gl=S('gitlab_pat', tok_gitlab()), bb=S('bitbucket_app_password', tok_bitbucket())))

    write('scripts/notify.sh', T('''
        #!/usr/bin/env bash
        MSG="${1:-deploy finished}"
        curl -s -H "Content-Type: application/json" -d "{\\"content\\": \\"${MSG}\\"}" \\
          «dw»
        curl -s "https://api.telegram.org/bot«tg»/sendMessage" \\
          -d chat_id=-1001987654321 -d text="${MSG}"
        ''', dw=S('discord_webhook', tok_discord_webhook()), tg=S('telegram_bot_token', tok_telegram())))

    write('scripts/build_images.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        docker login -u acmebot -p «dckr»
        SHA=$(git rev-parse HEAD)
        for svc in api worker reports; do
          docker build --build-arg GIT_SHA="${SHA}" -t "acme/${svc}:${SHA}" "services/${svc}"
          docker push "acme/${svc}:${SHA}"
        done
        ''', dckr=S('dockerhub_pat', tok_dockerhub())))

    write('scripts/publish_nuget.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        dotnet pack services/reports -c Release -o out
        dotnet nuget push "out/*.nupkg" --api-key «ng» --source https://api.nuget.org/v3/index.json
        ''', ng=S('nuget_api_key', tok_nuget())))

    write('scripts/download_models.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        huggingface-cli login --token «hf»
        huggingface-cli download acme/product-embedder --local-dir models/embedder

        # verify
        cat > /tmp/models.sha256 <<EOF
        «h1»  models/embedder/model.safetensors
        «h2»  models/embedder/tokenizer.json
        EOF
        sha256sum -c /tmp/models.sha256
        ''', hf=S('huggingface_token', tok_hf()), h1=D('sha256_hex', sha256hex()), h2=D('sha256_hex', sha256hex())))

    write('scripts/dashboards_sync.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        for f in dashboards/*.json; do
          curl -sf -X POST https://grafana.acme.io/api/dashboards/db \\
            -H "Authorization: Bearer «glsa»" \\
            -H "Content-Type: application/json" \\
            --data-binary "@${f}"
        done
        ''', glsa=S('grafana_sa_token', tok_grafana_sa())))

    write('scripts/do_snapshot.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        doctl auth init -t «dop»
        doctl compute droplet-action snapshot 412398123 --snapshot-name "legacy-$(date +%F)" --wait
        ''', dop=S('digitalocean_token', tok_do())))

    write('scripts/send_report.sh', T('''
        #!/usr/bin/env bash
        curl -s --user 'api:«mg»' \\
          https://api.eu.mailgun.net/v3/mg.acme.io/messages \\
          -F from='Reports <reports@mg.acme.io>' \\
          -F to=finance@acme.io \\
          -F subject="Weekly revenue report" \\
          -F attachment=@/tmp/report.pdf
        ''', mg=S('mailgun_api_key', tok_mailgun())))

    write('scripts/postman_sync.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        curl -sf -H "X-Api-Key: «pm»" \\
          "https://api.getpostman.com/collections/«col»" -o docs/postman/acme-api.json
        ''', pm=S('postman_api_key', tok_postman()), col=D('uuid_identifier', f'{digits(8)}-{uuid4()}')))

    write('scripts/import_gpg.sh', T('''
        #!/usr/bin/env bash
        # Import the release-signing key on a fresh build agent.
        set -euo pipefail
        gpg --batch --import <<'KEY'
        «k»
        KEY
        gpg --list-secret-keys
        ''', k=SB('pgp_private_key', pgp_priv_block)))

    write('scripts/upload_artifacts.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        az storage blob upload-batch \\
          --account-name acmeartifacts \\
          --account-key "«k»" \\
          --destination releases \\
          --source dist/
        ''', k=S('azure_storage_key', tok_azure_storage_key())))

    write('scripts/rotate_keys.sh', T('''
        #!/usr/bin/env bash
        # Interactive helper: rotate the API database password.
        set -euo pipefail
        read -rsp "New DB password: " NEW_PW; echo
        vault kv put secret/acme/api/db password="«ref»"
        psql "postgres://admin@db.prod.acme.internal/acme" -c "ALTER ROLE acme_app PASSWORD '${NEW_PW}'"
        echo "rotated; restart the api pods: kubectl -n prod rollout restart deploy/api"
        ''', ref=D('env_reference', '$NEW_PW')))

    write('scripts/bootstrap.sh', T('''
        #!/usr/bin/env bash
        # One-time bootstrap of a developer workstation.
        set -euo pipefail
        export DOPPLER_TOKEN=«dp»
        export VAULT_TOKEN=«hvs»
        export CLOUDFLARE_API_TOKEN=«cf»
        export GH_TOKEN=«ghf»
        export PULUMI_ACCESS_TOKEN=«pul»
        supabase login --token «sbp»
        doppler setup --project acme --config dev --no-interactive
        vault token lookup >/dev/null
        ''', dp=S('doppler_token', tok_doppler('pt')), hvs=S('vault_token', tok_vault('hvs_short')),
        cf=S('cloudflare_api_token', tok_cloudflare()), ghf=S('github_fine_grained_pat', tok_github_fine()),
        pul=S('pulumi_token', tok_pulumi()), sbp=S('supabase_token', tok_supabase())))

    write('scripts/upload_tiles.sh', T('''
        #!/usr/bin/env bash
        set -euo pipefail
        export MAPBOX_ACCESS_TOKEN=«msk»
        tilesets upload-source acme-maps store-locations data/stores.geojson.ld
        tilesets publish acme-maps.store-locations
        ''', msk=S('mapbox_secret_token', tok_mapbox('sk'))))

    write('scripts/okta_users.sh', T('''
        #!/usr/bin/env bash
        curl -s -H "Accept: application/json" \\
          -H "Authorization: SSWS «okta»" \\
          "https://acme.okta.com/api/v1/users?limit=200" | jq -r '.[].profile.login'
        ''', okta=S('okta_api_token', tok_okta())))


# ====================================================================== terraform
def gen_terraform():
    b = 'infra/terraform'
    write(f'{b}/providers.tf', T('''
        terraform {
          required_version = ">= 1.6"
          cloud {
            organization = "acme"
            workspaces { name = "platform-prod" }
          }
        }

        provider "aws" {
          region     = "eu-west-1"
          access_key = "«id»"
          secret_key = "«sec»"
        }

        provider "newrelic" {
          account_id = 3141592
          api_key    = "«nr»"
          region     = "EU"
        }

        provider "datadog" {
          api_key = var.datadog_api_key
          app_key = var.datadog_app_key
        }

        provider "digitalocean" {
          token = «ref»
        }
        ''', id=S('aws_access_key_id', tok_aws_id()), sec=S('aws_secret_access_key', tok_aws_secret()),
        nr=S('newrelic_api_key', tok_newrelic()), ref=D('template_ref', 'var.do_token')))

    write(f'{b}/variables.tf', T('''
        variable "environment" {
          type    = string
          default = "prod"
        }

        variable "do_token" {
          type      = string
          sensitive = true
        }

        variable "db_admin_password" {
          type      = string
          sensitive = true
        }

        variable "datadog_api_key" {
          type      = string
          sensitive = true
        }

        variable "datadog_app_key" {
          type      = string
          sensitive = true
        }
        '''))

    write(f'{b}/terraform.tfvars', T('''
        environment         = "prod"
        do_token            = "«do»"
        storage_account_key = "«az»"
        db_admin_password   = "«pw»"
        datadog_api_key     = "«dda»"
        datadog_app_key     = "«ddp»"
        cloudflare_zone_id  = "«zone»"
        kms_key_arn         = "«arn»"
        ''', do=S('digitalocean_token', tok_do()), az=S('azure_storage_key', tok_azure_storage_key()),
        pw=S('generic_password', password()), dda=S('datadog_api_key', hexs(32)), ddp=S('datadog_app_key', hexs(40)),
        zone=D('cloudflare_zone_id', hexs(32)), arn=D('aws_arn', f'arn:aws:kms:eu-west-1:{digits(12)}:key/{uuid4()}')))

    write(f'{b}/main.tf', T('''
        resource "random_password" "db" {
          length  = 32
          special = true
        }

        resource "aws_db_instance" "main" {
          identifier          = "acme-${var.environment}"
          engine              = "postgres"
          engine_version      = "16.2"
          instance_class      = "db.r6g.large"
          username            = "acme_admin"
          password            = «ref»
          skip_final_snapshot = false
        }

        resource "aws_instance" "bastion" {
          ami           = "«ami»"
          instance_type = "t3.micro"
          tags = {
            Name = "bastion-${var.environment}"
          }
        }

        data "aws_secretsmanager_secret_version" "stripe" {
          secret_id = "prod/stripe/secret_key"
        }
        ''', ref=D('template_ref', 'random_password.db.result'), ami=D('aws_resource_id', 'ami-0' + hexs(16))))

    write(f'{b}/grafana.tf', T('''
        provider "grafana" {
          url  = "https://acme.grafana.net"
          auth = "«glsa»"
        }

        resource "grafana_folder" "platform" {
          title = "Platform"
        }
        ''', glsa=S('grafana_sa_token', tok_grafana_sa())))

    write(f'{b}/vault.tf', T('''
        provider "vault" {
          address = "https://vault.acme.internal:8200"
          token   = "«hvs»"
        }

        resource "vault_mount" "kv" {
          path = "secret"
          type = "kv-v2"
        }
        ''', hvs=S('vault_token', tok_vault('hvs'))))

    write(f'{b}/outputs.tf', T('''
        output "db_endpoint" {
          value = aws_db_instance.main.endpoint
        }

        output "db_password" {
          value     = random_password.db.result
          sensitive = true
        }
        '''))

    write(f'{b}/modules/db/main.tf', T('''
        variable "name" { type = string }
        variable "password" {
          type      = string
          sensitive = true
        }

        resource "aws_db_parameter_group" "this" {
          name   = "${var.name}-pg16"
          family = "postgres16"
          parameter {
            name  = "log_min_duration_statement"
            value = "500"
          }
        }
        '''))

    provs = [('hashicorp/aws', '5.50.0'), ('hashicorp/random', '3.6.2')]
    blocks = []
    for p, v in provs:
        hs = [D('lockfile_hash', 'h1:' + b64(rbytes(32)))] + [D('lockfile_hash', 'zh:' + sha256hex()) for _ in range(3)]
        blocks.append(f'provider "registry.terraform.io/{p}" {{\n  version     = "{v}"\n  constraints = "~> {v[:3]}"\n  hashes = [\n'
                      + ''.join(f'    "{h}",\n' for h in hs) + '  ]\n}\n')
    write(f'{b}/.terraform.lock.hcl', '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n\n'
          + '\n'.join(blocks))


# ====================================================================== kubernetes, helm, monitoring
def gen_k8s(k):
    b = 'infra/k8s'
    write(f'{b}/deployment.yaml', T('''
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          namespace: prod
          labels: {app: api}
        spec:
          replicas: 3
          selector:
            matchLabels: {app: api}
          template:
            metadata:
              labels: {app: api}
              annotations:
                checksum/config: «cks»
            spec:
              containers:
                - name: api
                  image: ghcr.io/acme/api@«dg»
                  ports: [{containerPort: 8000}]
                  env:
                    - name: DATABASE_URL
                      valueFrom:
                        secretKeyRef: {name: api-secrets, key: DATABASE_URL}
                    - name: DD_API_KEY
                      value: "«dd»"
                    - name: DD_ENV
                      value: prod
        ''', cks=D('sha256_hex', sha256hex()), dg=D('docker_digest', docker_digest()),
        dd=S('datadog_api_key', hexs(32))))

    sa = {"type": "service_account", "project_id": "acme-prod-4711", "private_key_id": hexs(40),
          "private_key": "@@PK@@", "client_email": "deployer@acme-prod-4711.iam.gserviceaccount.com",
          "client_id": digits(21), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
          "token_uri": "https://oauth2.googleapis.com/token",
          "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
          "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/deployer%40acme-prod-4711.iam.gserviceaccount.com",
          "universe_domain": "googleapis.com"}
    sa_json = json.dumps(sa, indent=2).replace(
        '@@PK@@', SB('gcp_service_account_key', pem('PRIVATE KEY', k['gcp2'].pkcs8()) + '\n', json_escape=True))
    write(f'{b}/secret.yaml', T('''
        apiVersion: v1
        kind: Secret
        metadata:
          name: api-secrets
          namespace: prod
        type: Opaque
        data:
          DB_PASSWORD: «d1»
          REDIS_PASSWORD: «d2»
        stringData:
          gcp-sa.json: |
            «sa»
        ''', d1=S('k8s_secret_data', b64(password().encode())), d2=S('k8s_secret_data', b64(password().encode())),
        sa=blk(sa_json, 4)))

    write(f'{b}/configmap.yaml', T('''
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: api-config
          namespace: prod
        data:
          LOG_LEVEL: info
          FEATURE_FLAGS: "checkout_v2,fast_search"
          STRIPE_WEBHOOK_TOLERANCE: "300"
          ca.crt: |
            «ca»
        ''', ca=DB('certificate', x509_cert(k['ca'], 'Acme Internal Root CA'), indent=4)))

    write(f'{b}/ingress.yaml', T('''
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: api
          namespace: prod
          annotations:
            cert-manager.io/cluster-issuer: letsencrypt
        spec:
          tls:
            - hosts: [api.acme.io]
              secretName: api-tls
          rules:
            - host: api.acme.io
              http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend: {service: {name: api, port: {number: 8000}}}
        '''))

    write(f'{b}/webhook-certs.yaml', T('''
        apiVersion: v1
        kind: Secret
        metadata:
          name: admission-webhook-tls
          namespace: platform-system
        type: kubernetes.io/tls
        stringData:
          tls.crt: |
            «crt»
          tls.key: |
            «key»
        ''', crt=DB('certificate', x509_cert(k['wh_pub'], 'admission.platform-system.svc'), indent=4),
        key=SB('private_key_ec', pem('EC PRIVATE KEY', k['ec2'].sec1()), indent=4)))

    ca_data = b64(x509_cert(k['ca'], 'kubernetes').encode())
    client_crt = b64(x509_cert(k['kc1'], 'ci-deployer', issuer_cn='kubernetes').encode())
    client_key = b64(pem('RSA PRIVATE KEY', k['kc1'].pkcs1()).encode())
    iat = now_iat()
    sa_tok = jwt({"aud": ["https://kubernetes.default.svc"], "exp": iat + 31536000, "iat": iat,
                  "iss": "https://kubernetes.default.svc",
                  "kubernetes.io": {"namespace": "ci", "serviceaccount": {"name": "deployer", "uid": uuid4()}},
                  "sub": "system:serviceaccount:ci:deployer"}, alg='RS256')
    write(f'{b}/kubeconfig-ci.yaml', T('''
        apiVersion: v1
        kind: Config
        clusters:
          - name: prod
            cluster:
              server: https://k8s.prod.acme.internal:6443
              certificate-authority-data: «ca»
        users:
          - name: ci-deployer
            user:
              client-certificate-data: «crt»
              client-key-data: «key»
          - name: ci-sa
            user:
              token: «tok»
        contexts:
          - name: prod
            context: {cluster: prod, user: ci-deployer, namespace: prod}
        current-context: prod
        ''', ca=D('kubeconfig_ca_data', ca_data), crt=D('kubeconfig_cert_data', client_crt),
        key=S('kubeconfig_client_key', client_key), tok=S('jwt', sa_tok)))

    write('ops/kube/admin.conf', T('''
        apiVersion: v1
        kind: Config
        clusters:
          - name: staging
            cluster:
              server: https://10.30.0.10:6443
              certificate-authority-data: «ca»
        users:
          - name: kubernetes-admin
            user:
              client-certificate-data: «crt»
              client-key-data: «key»
        contexts:
          - name: kubernetes-admin@staging
            context: {cluster: staging, user: kubernetes-admin}
        current-context: kubernetes-admin@staging
        ''', ca=D('kubeconfig_ca_data', b64(x509_cert(k['ca'], 'kubernetes-staging').encode())),
        crt=D('kubeconfig_cert_data', b64(x509_cert(k['kc2'], 'kubernetes-admin', issuer_cn='kubernetes').encode())),
        key=S('kubeconfig_client_key', b64(pem('RSA PRIVATE KEY', k['kc2'].pkcs1()).encode()))))

    write(f'{b}/sealed-secret.yaml', T('''
        apiVersion: bitnami.com/v1alpha1
        kind: SealedSecret
        metadata:
          name: billing-secrets
          namespace: prod
        spec:
          encryptedData:
            BRAINTREE_TOKEN: «e1»
            SQUARE_TOKEN: «e2»
        ''', e1=D('encrypted_blob', 'AgB' + b64(rbytes(560))), e2=D('encrypted_blob', 'AgA' + b64(rbytes(560)))))

    # ---------------------------------------------------------------- helm
    h = 'infra/helm/acme'
    write(f'{h}/Chart.yaml', T('''
        apiVersion: v2
        name: acme
        description: Acme platform
        type: application
        version: 1.8.0
        appVersion: "2.14.3"
        '''))
    write(f'{h}/values.yaml', T('''
        image:
          repository: ghcr.io/acme/api
          digest: «dg»
        replicaCount: 2
        slack:
          token: ""
        stripe:
          secretKey: «ph»
        rabbitmq:
          url: ""
        tls:
          enabled: false
        datadog:
          apiKeyExistingSecret: datadog-secret
        ''', dg=D('docker_digest', docker_digest()), ph=D('placeholder', '<set-in-values-prod>')))

    write(f'{h}/values-prod.yaml', T('''
        replicaCount: 4
        slack:
          token: «xoxb»
        rabbitmq:
          url: «amqp»
        mongodb:
          uri: «mongo»
        datadog:
          appKey: «ddp»
        tls:
          enabled: true
          crt: |
            «crt»
          key: |
            «key»
        ''', xoxb=S('slack_bot_token', tok_slack_bot()),
        amqp=S('amqp_url', f'amqp://acme:{url_password()}@rabbitmq.prod.svc.cluster.local:5672/'),
        mongo=S('mongodb_url', f'mongodb://events:{url_password()}@mongo-0.mongo.prod.svc:27017,mongo-1.mongo.prod.svc:27017/events?replicaSet=rs0&authSource=admin'),
        ddp=S('datadog_app_key', hexs(40)),
        crt=DB('certificate', x509_cert(k['tls2'], 'acme.io'), indent=4),
        key=SB('private_key_pkcs8', pem('PRIVATE KEY', k['tls2'].pkcs8()), indent=4)))

    write(f'{h}/templates/deployment.yaml', T('''
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ include "acme.fullname" . }}
        spec:
          replicas: {{ .Values.replicaCount }}
          template:
            spec:
              containers:
                - name: api
                  image: "{{ .Values.image.repository }}@{{ .Values.image.digest }}"
                  env:
                    - name: SLACK_BOT_TOKEN
                      value: «t1»
                    - name: AMQP_URL
                      value: «t2»
        ''', t1=D('template_ref', '{{ .Values.slack.token | quote }}'), t2=D('template_ref', '{{ .Values.rabbitmq.url | quote }}')))

    write(f'{h}/templates/secret.yaml', T('''
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ include "acme.fullname" . }}-stripe
        type: Opaque
        data:
          STRIPE_SECRET_KEY: «t»
        ''', t=D('template_ref', '{{ .Values.stripe.secretKey | b64enc | quote }}')))

    age_sec, age_pub = age_keypair()
    enc = lambda n: f'ENC[AES256_GCM,data:{b64(rbytes(n))},iv:{b64(rbytes(32))},tag:{b64(rbytes(16))},type:str]'
    write(f'{h}/secrets.prod.enc.yaml', T('''
        stripe:
          secretKey: «e1»
        slack:
          token: «e2»
        sops:
          age:
            - recipient: «age»
              enc: |
                -----BEGIN AGE ENCRYPTED FILE-----
                «armor»
                -----END AGE ENCRYPTED FILE-----
          lastmodified: "2024-05-21T08:12:44Z"
          mac: «mac»
          version: 3.8.1
        ''', e1=D('encrypted_blob', enc(107)), e2=D('encrypted_blob', enc(57)), age=D('age_public_key', age_pub),
        armor=D('encrypted_blob', b64(rbytes(48))), mac=D('encrypted_blob', enc(32))))

    # ---------------------------------------------------------------- monitoring / runner / pulumi
    write('infra/monitoring/alertmanager.yml', T('''
        global:
          resolve_timeout: 5m
          slack_api_url: '«hook»'
        route:
          receiver: platform
          group_by: [alertname, namespace]
        receivers:
          - name: platform
            slack_configs:
              - channel: '#alerts'
                send_resolved: true
            pagerduty_configs:
              - routing_key: «ph»
        ''', hook=S('slack_webhook', tok_slack_webhook()), ph=D('placeholder', '<pagerduty-integration-key>')))

    write('infra/monitoring/prometheus.yml', T('''
        global:
          scrape_interval: 30s
        remote_write:
          - url: https://prometheus-prod-24-prod-eu-west-2.grafana.net/api/prom/push
            basic_auth:
              username: «user»
              password: «glc»
        scrape_configs:
          - job_name: api
            kubernetes_sd_configs: [{role: pod}]
        ''', user=digits(7), glc=S('grafana_cloud_token', tok_grafana_cloud())))

    write('infra/monitoring/grafana-agent.river', T('''
        prometheus.remote_write "cloud" {
          endpoint {
            url = "https://prometheus-prod-24-prod-eu-west-2.grafana.net/api/prom/push"
            basic_auth {
              username = "«user»"
              password = "«glc»"
            }
          }
        }
        ''', user=digits(7), glc=S('grafana_cloud_token', tok_grafana_cloud())))

    write('infra/runner/config.toml', T('''
        concurrent = 4
        check_interval = 0

        [[runners]]
          name = "acme-docker-runner-1"
          url = "https://gitlab.com"
          token = "«glrt»"
          executor = "docker"
          [runners.docker]
            image = "alpine:3.20"
            privileged = false
        ''', glrt=S('gitlab_runner_token', tok_gitlab_runner())))

    write('infra/runner/register.sh', T('''
        #!/usr/bin/env bash
        gitlab-runner register --non-interactive \\
          --url https://gitlab.com \\
          --token «glrt» \\
          --executor docker --docker-image alpine:3.20 \\
          --description acme-docker-runner-2
        ''', glrt=S('gitlab_runner_token', tok_gitlab_runner())))

    write('infra/pulumi/Pulumi.yaml', 'name: acme-edge\nruntime: nodejs\ndescription: Edge resources (CDN, DNS)\n')
    write('infra/pulumi/Pulumi.prod.yaml', T('''
        encryptionsalt: v1:«salt»
        config:
          aws:region: eu-west-1
          acme-edge:dbPassword:
            secure: v1:«s1»
          acme-edge:cloudflareToken:
            secure: v1:«s2»
        ''', salt=D('encrypted_blob', b64(rbytes(8)) + ':v1:' + b64(rbytes(12)) + ':' + b64(rbytes(32))),
        s1=D('encrypted_blob', b64(rbytes(12)) + ':' + b64(rbytes(40))),
        s2=D('encrypted_blob', b64(rbytes(12)) + ':' + b64(rbytes(56)))))
    write('infra/pulumi/index.ts', T('''
        import * as cloudflare from "@pulumi/cloudflare";
        import * as pulumi from "@pulumi/pulumi";

        const cfg = new pulumi.Config();
        const zone = cloudflare.getZoneOutput({ name: "acme.io" });

        new cloudflare.Record("www", {
          zoneId: zone.id,
          name: "www",
          type: "CNAME",
          value: "acme-web.vercel.app",
          proxied: true,
        });

        export const dbPassword = cfg.requireSecret("dbPassword");
        '''))

    write('infra/gcp/sa-deployer.json', json.dumps(
        {"type": "service_account", "project_id": "acme-data-2231", "private_key_id": hexs(40),
         "private_key": "@@PK@@", "client_email": "bq-loader@acme-data-2231.iam.gserviceaccount.com",
         "client_id": digits(21), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
         "token_uri": "https://oauth2.googleapis.com/token",
         "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
         "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/bq-loader%40acme-data-2231.iam.gserviceaccount.com",
         "universe_domain": "googleapis.com"}, indent=2).replace(
        '@@PK@@', SB('gcp_service_account_key', pem('PRIVATE KEY', k['gcp1'].pkcs8()) + '\n', json_escape=True)) + '\n')


# ====================================================================== certs / keys / ops
def gen_certs(k, deploy_key):
    write('certs/server.crt', DB('certificate', x509_cert(k['srv'], 'api.acme.io')) + '\n')
    write('certs/server.key', SB('private_key_rsa', pem('RSA PRIVATE KEY', k['srv'].pkcs1())) + '\n')
    write('certs/ca.pem', DB('certificate', x509_cert(k['ca'], 'Acme Internal Root CA')) + '\n')
    write('certs/tls/tls.crt', DB('certificate', x509_cert(k['tls1'], '*.acme.io')) + '\n')
    write('certs/tls/tls.key', SB('private_key_pkcs8', pem('PRIVATE KEY', k['tls1'].pkcs8())) + '\n')
    write('certs/ec-signing.pem', SB('private_key_ec', pem('EC PRIVATE KEY', k['ec1'].sec1())) + '\n')
    write('certs/ec-signing.pub.pem', DB('public_key', pem('PUBLIC KEY', k['ec1'].spki())) + '\n')
    write('certs/jwt_public.pem', DB('public_key', pem('PUBLIC KEY', k['jwtpub'].spki())) + '\n')
    write('certs/signing/codesign.key', SB('private_key_encrypted', encrypted_pkcs8()) + '\n')
    write('certs/README.md', T('''
        # certs

        * `server.crt` / `server.key` - TLS for the legacy load balancer (expires 2025-11).
        * `ca.pem` - internal root CA, safe to distribute.
        * `jwt_public.pem` - verification key for session tokens.
        * `signing/codesign.key` - encrypted; passphrase is in 1Password ("codesign").
        '''))

    write('deploy/keys/deploy_key', SB('private_key_openssh', deploy_key.openssh_private()) + '\n')
    write('deploy/keys/deploy_key.pub', D('ssh_public_key', deploy_key.pub_line()) + '\n')
    e1 = EdKey('alice@laptop')
    write('deploy/authorized_keys', T('''
        «k1»
        «k2»
        ''', k1=D('ssh_public_key', ssh_rsa_pub_line(k['ssh_rsa'], 'bob@workstation')),
        k2=D('ssh_public_key', e1.pub_line())))
    kh = []
    for _ in range(2):
        e = EdKey('')
        kh.append('|1|' + b64(rbytes(20)) + '|' + b64(rbytes(20)) + ' ' + e.pub_line().rsplit(' ', 1)[0])
    write('deploy/known_hosts', D('ssh_public_key', kh[0]) + '\n' + D('ssh_public_key', kh[1]) + '\n')

    write('ops/gpg/release-signing.asc', SB('pgp_private_key', pgp_key(k['pgp1'], 'Acme Release Signing <release@acme.io>')) + '\n')
    write('ops/gpg/release-signing.pub.asc', DB('pgp_public_key', pgp_key(k['pgp1'], 'Acme Release Signing <release@acme.io>', secret=False)) + '\n')
    sec, pub = age_keypair()
    write('ops/sops/age-key.txt', T('''
        # created: 2024-02-11T10:22:31Z
        # public key: «pub»
        «sec»
        ''', pub=D('age_public_key', pub), sec=S('age_secret_key', sec)))

    n = k['jwtpub'].n
    jwk = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": hexs(16),
                     "n": "@@N@@", "e": "AQAB"}]}
    write('config/jwks.json', json.dumps(jwk, indent=2).replace(
        '@@N@@', D('jwk_public_modulus', b64u(n.to_bytes((n.bit_length() + 7) // 8, 'big')))) + '\n')


# ====================================================================== notebooks
def gen_notebooks():
    img1 = b64(png(64, 40))
    write('notebooks/exploration.ipynb', notebook([
        ('markdown', '# Orders exploration\n\nQuick look at order volume by week.'),
        ('code', 'import pandas as pd\nfrom sqlalchemy import create_engine\n\nengine = create_engine("'
         + S('postgres_url', f'postgresql://analyst:{url_password()}@replica.prod.acme.internal:5432/acme') + '")'),
        ('code', 'df = pd.read_sql("select id, total, created_at from orders limit 1000", engine)\ndf.describe()',
         [('result', '             id        total\ncount  1000.000  1000.000\nmean   50412.3    87.41\nstd     288.9     61.02')]),
        ('code', 'df.set_index("created_at").resample("W")["total"].sum().plot()',
         [('image', D('base64_image', img1))]),
        ('code', 'import os\n{k: v for k, v in os.environ.items() if k.startswith("STRIPE")}',
         [('result', "{'STRIPE_SECRET_KEY': '" + S('stripe_secret_key', tok_stripe('sk_live_')) + "',\n"
           " 'STRIPE_API_VERSION': '2024-04-10'}")]),
        ('code', 'import googlemaps\n\ngmaps = googlemaps.Client(key="' + S('google_api_key', tok_google_api()) + '")\ngmaps.geocode("1 Market St, San Francisco")[0]["geometry"]'),
        ('code', '# request id from the failing call, for the support ticket\nreq_id = "' + D('uuid_identifier', uuid4()) + '"'),
    ]))

    write('notebooks/llm_eval.ipynb', notebook([
        ('markdown', '## LLM evaluation\n\nCompare providers on the support-ticket summarisation set.'),
        ('code', 'from openai import OpenAI\n\nclient = OpenAI(api_key="' + S('openai_api_key', tok_openai('svc')) + '")'),
        ('code', 'import anthropic\n\nclaude = anthropic.Anthropic(api_key="' + S('anthropic_api_key', tok_anthropic()) + '")'),
        ('code', 'import cohere\n\nco = cohere.Client("' + S('cohere_api_key', tok_cohere()) + '")'),
        ('code', 'from huggingface_hub import login\n\nlogin(token="' + S('huggingface_token', tok_hf()) + '")',
         [('stream', 'Token is valid (permission: write).\nYour token has been saved to /home/jovyan/.cache/huggingface/token\nLogin successful\n')]),
        ('code', '!curl -s https://api.groq.com/openai/v1/models -H "Authorization: Bearer '
         + S('groq_api_key', tok_groq()) + '" | head -c 120',
         [('stream', '{"object":"list","data":[{"id":"llama3-70b-8192","object":"model","created":1693721698,"owned_by":"Meta"}')]),
        ('code', 'import replicate\n\nrc = replicate.Client(api_token="' + S('replicate_token', tok_replicate()) + '")'),
        ('code', '[m.id for m in client.models.list().data][:3]',
         [('result', "['gpt-4o-2024-05-13', 'gpt-4o', 'text-embedding-3-large']")]),
    ]))

    img2 = b64(png(56, 36))
    write('notebooks/churn_model.ipynb', notebook([
        ('markdown', '# Churn model v3'),
        ('code', 'from databricks import sql\n\nconn = sql.connect(\n    server_hostname="adb-' + digits(16)
         + '.7.azuredatabricks.net",\n    http_path="/sql/1.0/warehouses/' + hexs(16) + '",\n    access_token="'
         + S('databricks_token', tok_databricks()) + '",\n)'),
        ('code', 'from pymongo import MongoClient\n\nevents = MongoClient("'
         + S('mongodb_url', f'mongodb+srv://analytics:{url_password()}@events.{rs(5, LOWER + DIGITS)}.mongodb.net/') + '")["events"]'),
        ('code', 'import matplotlib.pyplot as plt\nplt.plot(history["auc"])', [('image', D('base64_image', img2))]),
        ('code', '!cat ~/.databrickscfg',
         [('stream', '[DEFAULT]\nhost = https://adb-' + digits(16) + '.7.azuredatabricks.net\ntoken = '
           + S('databricks_token', tok_databricks()) + '\n')]),
    ]))

    iat = now_iat()
    bearer = jwt({"sub": "svc-analytics", "scope": "orders:read customers:read", "iss": "https://auth.acme.io",
                  "aud": "https://api.acme.io", "iat": iat, "exp": iat + 86400 * 30})
    write('notebooks/slack_analytics.ipynb', notebook([
        ('markdown', '# Support channel analytics'),
        ('code', 'from slack_sdk import WebClient\n\nclient = WebClient(token="' + S('slack_user_token', tok_slack_user()) + '")'),
        ('code', 'from notion_client import Client\n\nnotion = Client(auth="' + S('notion_token', tok_notion('secret')) + '")'),
        ('code', 'resp = requests.get("https://api.acme.io/v1/tickets", headers={"Authorization": f"Bearer {TOKEN}"})\nresp.request.headers',
         [('result', "{'User-Agent': 'python-requests/2.31.0', 'Accept-Encoding': 'gzip, deflate', 'Accept': '*/*', "
           "'Connection': 'keep-alive', 'Authorization': 'Bearer " + S('jwt', bearer) + "'}")]),
    ]))


# ====================================================================== docs
def gen_docs():
    write('docs/setup.md', T('''
        # Local setup

        1. Install the tools listed in `.tool-versions` (`asdf install`).
        2. Copy `.env.example` to `.env` and fill in your own keys:

           ```bash
           export STRIPE_SECRET_KEY=«p1»
           export GITHUB_TOKEN=«p2»
           ```

        3. Start the stack with `make up` and open a psql shell:

           ```bash
           psql «p3»
           ```

        Use `«p4»` as the password for the local `acme` role created by
        `docker compose` - it only exists on your laptop.
        ''', p1=D('placeholder', 'sk_live_...'), p2=D('placeholder', '<your-token-here>'),
        p3=D('placeholder_url', 'postgres://<user>:<password>@localhost:5432/acme'),
        p4=D('template_ref', '${POSTGRES_PASSWORD}')))

    iat = now_iat()
    api_jwt = jwt({"sub": "user_8821", "email": "qa@acme.io", "role": "admin", "iss": "https://auth.acme.io",
                   "iat": iat, "exp": iat + 86400 * 365})
    write('docs/api.md', T('''
        # Acme API

        All requests need a bearer token. Example against staging (token for the
        QA admin account):

        ```bash
        curl https://staging-api.acme.io/v1/orders?limit=2 \\
          -H "Authorization: Bearer «jwt»"
        ```

        Response:

        ```json
        {"items": [{"id": "ord_19xk2", "total": "42.00"}], "request_id": "«rid»"}
        ```

        ## Refunds

        Refunds are issued through Stripe directly while the endpoint is being
        rebuilt:

        ```bash
        curl https://api.stripe.com/v1/refunds \\
          -u «sk»: \\
          -d payment_intent=pi_3PexampleONLY
        ```

        ## Postman

        The collection is synced from the Postman API:

        ```bash
        curl -H "X-Api-Key: «pm»" https://api.getpostman.com/workspaces
        ```

        ## Token format

        Tokens are standard JWTs; the canonical example from jwt.io decodes to
        `{"sub": "1234567890", "name": "John Doe"}`:

            «ex»
        ''', jwt=S('jwt', api_jwt), rid=D('uuid_identifier', uuid4()),
        sk=S('stripe_secret_key', tok_stripe('sk_live_')), pm=S('postman_api_key', tok_postman()),
        ex=D('jwt_doc_example', JWT_IO)))

    write('docs/deploy.md', T('''
        # Deploying

        CI deploys tags automatically. To deploy by hand you need AWS credentials
        in your environment. The AWS docs use these example values - do **not**
        paste them into real config:

        ```ini
        [default]
        aws_access_key_id = «a1»
        aws_secret_access_key = «a2»
        ```

        Then:

        ```bash
        export VAULT_TOKEN=$(vault print token)
        heroku config:set STRIPE_SECRET_KEY=«p1» -a acme-api
        ./scripts/deploy.sh
        ```
        ''', a1=D('aws_example_key', AWS_EX_ID), a2=D('aws_example_secret', AWS_EX_SEC),
        p1=D('placeholder', '<your-token-here>')))

    write('docs/runbooks/incident-2024-03.md', T('''
        # Incident 2024-03-14: partial outage of order ingestion

        ## Timeline (UTC)

        * 09:12 alert fired (queue depth > 50k)
        * 09:20 on-call checked the worker; commands run:

        ```
        $ export GITHUB_TOKEN=«ghp»
        $ gh run list -R acme/platform -L 5
        $ export VAULT_TOKEN=«hvs»
        $ vault kv get secret/acme/worker
        $ psql "«pg»" -c "select count(*) from jobs where state='stuck'"
         count
        -------
         51234
        $ sentry-cli --auth-token «st» releases list
        ```

        * 09:41 worker restarted, backlog drained by 10:05.

        ## Follow-ups
        - [ ] rotate the tokens pasted above
        - [ ] add an alert on consumer count
        ''', ghp=S('github_pat', tok_github('ghp_')), hvs=S('vault_token', tok_vault('hvs')),
        pg=S('postgres_url', f'postgres://oncall:{url_password()}@db.prod.acme.internal:5432/acme'),
        st=S('sentry_auth_token', tok_sentry_org())))

    write('docs/runbooks/rotate-secrets.md', T('''
        # Rotating secrets

        Keys are shown redacted in the dashboards, e.g.

        | system | how it is displayed |
        | --- | --- |
        | Stripe | `«r1»` |
        | GitHub | `«r2»` |
        | AWS | `«r3»` |
        | Slack | `«r4»` |

        1. Create the new key in the provider console.
        2. `vault kv put secret/acme/<service> <name>=<new value>`
        3. Restart the deployment and revoke the old key.
        ''', r1=D('redacted', 'sk_live_51H••••••••••••••••••••••4f2Q'),
        r2=D('redacted', 'ghp_****************************3fA9'),
        r3=D('placeholder_shaped', 'AKIA****************'),
        r4=D('placeholder_shaped', 'xoxb-XXXXXXXXXXXX-XXXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX')))

    write('docs/integrations.md', T('''
        # Third-party integrations

        ## Slack
        Slack's own docs use `«s1»` in examples; create a real
        bot token under *OAuth & Permissions*.

        ## Twilio
        Account SIDs look like `«t1»` and the auth token like
        `«t2»`.

        ## Notion
        ```bash
        curl https://api.notion.com/v1/users -H "Authorization: Bearer «n1»" -H "Notion-Version: 2022-06-28"
        ```

        ## Linear
        Personal API keys look like `«l1»`.

        ## GitHub
        ```bash
        export GITHUB_TOKEN=«g1»
        ```
        ''', s1=D('vendor_doc_example', SLACK_DOC), t1=D('placeholder_shaped', 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'),
        t2=D('placeholder', 'your_auth_token'),
        n1=D('placeholder_shaped', 'ntn_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'),
        l1=D('placeholder_shaped', 'lin_api_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),
        g1=D('placeholder_shaped', 'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX')))

    write('docs/architecture.md', T('''
        # Architecture

        ```
        web ──► api ──► postgres
                 │
                 └──► rabbitmq ──► worker ──► slack / discord
        ```

        The event schema was introduced in «c1» and the outbox pattern in
        https://github.com/acme/platform/commit/«c2».
        ''', c1=D('git_commit_sha', sha1hex()[:10]), c2=D('git_commit_sha', sha1hex())))

    write('docs/adr/0001-use-postgres.md', '# ADR 0001: Use PostgreSQL\n\nStatus: accepted\n\nWe use PostgreSQL 16 for all OLTP data.\n')
    write('docs/adr/0002-event-bus.md', '# ADR 0002: RabbitMQ as event bus\n\nStatus: accepted\n\nKafka was considered and rejected for operational cost.\n')

    iat = now_iat()
    qa_jwt = jwt({"sub": "user_1203", "role": "support", "iss": "https://auth.acme.io", "iat": iat, "exp": iat + 86400 * 90})
    write('tests/integration/http/requests.http', T('''
        ### List orders (staging, support user)
        GET https://staging-api.acme.io/v1/orders?limit=5
        Authorization: Bearer «jwt»

        ### Okta users
        GET https://acme.okta.com/api/v1/users?limit=25
        Accept: application/json
        Authorization: SSWS «okta»

        ### Local
        GET http://localhost:8000/v1/orders
        Authorization: Bearer «tpl»
        ''', jwt=S('jwt', qa_jwt), okta=S('okta_api_token', tok_okta()), tpl=D('template_ref', '{{token}}')))

    write('tests/integration/test_smoke.py', T('''
        import os

        import requests

        BASE = os.getenv("SMOKE_BASE_URL", "https://staging-api.acme.io")


        def test_healthz():
            assert requests.get(f"{BASE}/healthz", timeout=5).json() == {"status": "ok"}
        '''))


# ====================================================================== main
def main():
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)

    # keys first (deterministic order)
    keys = {}
    for name in ['jwt', 'srv', 'ca', 'tls1', 'tls2', 'gcp1', 'gcp2', 'kc1', 'kc2', 'pgp1', 'pgp2',
                 'jwtpub', 'wh_pub', 'ssh_rsa']:
        keys[name] = RSAKey(2048)
    keys['ec1'], keys['ec2'], keys['apns'] = ECKey(), ECKey(), ECKey()
    deploy_key = EdKey('deploy@acme-ci')
    ci_key = EdKey('github-actions@acme')

    gen_root()
    gen_dotfiles()
    gen_ci(ci_key.openssh_private())
    gen_api(keys['jwt'])
    gen_py_scripts()
    gen_bots()
    gen_web()
    gen_worker(keys['apns'])
    gen_billing()
    gen_legacy()
    gen_admin()
    gen_reports()
    gen_cli()
    gen_shell(pgp_key(keys['pgp2'], 'Acme CI <ci@acme.io>'))
    gen_terraform()
    gen_k8s(keys)
    gen_certs(keys, deploy_key)
    gen_notebooks()
    gen_docs()

    unused = [p for p in PL if p['used'] != 1]
    assert not unused, [(p['kind'], p['label']) for p in unused]
    # sanity: every label's secret really is at the recorded line
    for rec in LABELS:
        with open(os.path.join(ROOT, rec['path']), encoding='utf-8') as f:
            lines = f.read().split('\n')
        assert rec['secret'] in lines[rec['line'] - 1], rec

    with open(LABELS_PATH, 'w') as f:
        for rec in LABELS:
            f.write(json.dumps(rec) + '\n')

    ns = sum(1 for r in LABELS if r['label'] == 'secret')
    nd = len(LABELS) - ns
    kinds = sorted({r['kind'] for r in LABELS if r['label'] == 'secret'})
    dkinds = sorted({r['kind'] for r in LABELS if r['label'] == 'decoy'})
    print(f'{len(FILES)} files, {ns} secrets in {len(kinds)} kinds, {nd} decoys in {len(dkinds)} kinds')


if __name__ == '__main__':
    main()
