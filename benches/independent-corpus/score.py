#!/usr/bin/env python3
"""Score keywarden against the labelled corpus produced by gen.py.

Matching:
  * a planted secret is FOUND if some finding is on the same path and its line is
    within +-1 of the secret's line (for multi-line blocks: any line inside the block);
  * a finding that matches no planted secret is a FALSE POSITIVE; it is reported as a
    decoy hit if it falls on (+-1) a labelled decoy, otherwise as "unlabelled".

Also reported, as a stricter cross-check, is a value-aware attribution: a finding whose
reported secret overlaps a decoy's value (and no secret's value) is charged to that decoy
even when a real secret sits on an adjacent line.

Usage: python3 score.py [--findings FILE]   (default: run $KEYWARDEN, else target/release/keywarden)
"""
import argparse
import base64
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get('OUT', '/tmp/keywarden-independent-corpus')
TREE = os.path.join(OUT, 'tree')
LABELS = os.path.join(OUT, 'labels.jsonl')
BIN = os.environ.get('KEYWARDEN', os.path.join(HERE, '..', '..', 'target', 'release', 'keywarden'))
CMD = [BIN, 'scan', TREE, '--no-config', '--format', 'jsonl',
       '--no-progress', '--show-secrets']


def load_findings(path=None):
    if path:
        text = open(path, encoding='utf-8').read()
    else:
        p = subprocess.run(CMD, capture_output=True, text=True)
        if p.returncode not in (0, 1):
            sys.stderr.write(p.stderr)
            raise SystemExit(f'scanner exited with {p.returncode}')
        text = p.stdout
    out = []
    for ln in text.splitlines():
        ln = ln.strip()
        if not ln:
            continue
        f = json.loads(ln)
        out.append({'path': f['path'][2:] if f['path'].startswith('./') else f['path'],
                    'line': int(f['line']), 'rule': f.get('rule_id', '?'),
                    'secret': f.get('secret') or '', 'raw': f})
    return out


def norm_path(p):
    if os.path.isabs(p):
        p = os.path.relpath(p, TREE)
    return p.replace('\\', '/')


def in_window(lab, line):
    if 'end_line' in lab and lab['end_line'] > lab['line']:
        return lab['line'] <= line <= lab['end_line']
    return abs(line - lab['line']) <= 1


def overlap(lab, fsec):
    a, b = lab['secret'], fsec
    if not a or not b:
        return False
    return (len(a) >= 6 and a in b) or (len(b) >= 6 and b in a)


def value_match(lab, f):
    """Does finding f plausibly report this label's value (not just a neighbour's)?"""
    if 'end_line' in lab:                      # blocks: any finding inside the block
        return lab['line'] <= f['line'] <= lab['end_line']
    if overlap(lab, f['secret']):
        return True
    try:                                       # base64-wrapped values may be reported decoded
        dec = base64.b64decode(lab['secret'], validate=True).decode('utf-8')
        return overlap({'secret': dec}, f['secret']) or (len(f['secret']) >= 6 and f['secret'] in dec)
    except Exception:
        return False


def pct(n, d):
    return f'{100.0 * n / d:5.1f}%' if d else '   n/a'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--findings', help='read scanner JSONL from a file instead of running it')
    args = ap.parse_args()

    labels = [json.loads(l) for l in open(LABELS, encoding='utf-8') if l.strip()]
    for i, l in enumerate(labels):
        l['id'] = i
    findings = load_findings(args.findings)
    for f in findings:
        f['path'] = norm_path(f['path'])

    by_path = collections.defaultdict(list)
    for l in labels:
        by_path[l['path']].append(l)
    file_lines = {}

    def line_text(path, n):
        if path not in file_lines:
            try:
                file_lines[path] = open(os.path.join(TREE, path), encoding='utf-8', errors='replace').read().split('\n')
            except OSError:
                file_lines[path] = []
        ls = file_lines[path]
        return ls[n - 1] if 0 < n <= len(ls) else ''

    found = set()              # secret label ids found (spec rule)
    found_strict = set()       # ... by a finding that reports this very value
    tp, fp = [], []            # findings
    strict_decoy = []          # findings value-attributed to a decoy although adjacent to a secret
    decoy_hit = collections.Counter()
    for f in findings:
        cands = [l for l in by_path.get(f['path'], []) if in_window(l, f['line'])]
        secs = [l for l in cands if l['label'] == 'secret']
        decs = [l for l in cands if l['label'] == 'decoy']
        for l in secs:
            found.add(l['id'])
            if value_match(l, f):
                found_strict.add(l['id'])
        if secs:
            tp.append(f)
            if any(overlap(d, f['secret']) for d in decs) and not any(overlap(s, f['secret']) for s in secs):
                strict_decoy.append((f, [d for d in decs if overlap(d, f['secret'])][0]))
        else:
            d = ([x for x in decs if overlap(x, f['secret'])] or
                 [x for x in decs if x['line'] == f['line']] or decs)
            f['decoy'] = d[0] if d else None
            if f['decoy']:
                decoy_hit[f['decoy']['kind']] += 1
            fp.append(f)

    secrets = [l for l in labels if l['label'] == 'secret']
    decoys = [l for l in labels if l['label'] == 'decoy']
    n_found = sum(1 for l in secrets if l['id'] in found)
    print('=' * 100)
    print(f'corpus: {len(secrets)} planted secrets ({len({l["kind"] for l in secrets})} kinds), '
          f'{len(decoys)} decoys; scanner findings: {len(findings)}')
    print(f'RECALL    {n_found}/{len(secrets)} = {pct(n_found, len(secrets))}')
    n_strict = sum(1 for l in secrets if l['id'] in found_strict)
    print(f'strict recall (finding must report this value, not a neighbour): '
          f'{n_strict}/{len(secrets)} = {pct(n_strict, len(secrets))}')
    print(f'PRECISION {len(tp)}/{len(findings)} = {pct(len(tp), len(findings))}   '
          f'(FP: {sum(1 for f in fp if f.get("decoy"))} on decoys, {sum(1 for f in fp if not f.get("decoy"))} unlabelled)')
    strict_p = len(tp) - len(strict_decoy)
    print(f'strict precision (value-attributed decoy hits next to secrets count as FP): '
          f'{strict_p}/{len(findings)} = {pct(strict_p, len(findings))}')
    hit_decoys = {f['decoy']['id'] for f in fp if f.get('decoy')} | {d['id'] for _, d in strict_decoy}
    print(f'decoys flagged: {len(hit_decoys)}/{len(decoys)}')

    # per kind recall
    print('\nPER-KIND RECALL (secrets)')
    print(f'  {"kind":28} found/planted  recall')
    per = collections.defaultdict(lambda: [0, 0, 0])
    for l in secrets:
        per[l['kind']][1] += 1
        per[l['kind']][0] += l['id'] in found
        per[l['kind']][2] += l['id'] in found_strict
    for k in sorted(per, key=lambda k: (per[k][0] / per[k][1], per[k][2] / per[k][1], k)):
        a, b, c = per[k]
        print(f'  {k:28} {a:>3}/{b:<3}        {pct(a, b)}   strict {c}/{b}')

    # per rule precision
    print('\nPER-RULE PRECISION (scanner rule ids)')
    print(f'  {"rule_id":36} tp/total  precision')
    pr = collections.defaultdict(lambda: [0, 0])
    tp_ids = {id(f) for f in tp}
    for f in findings:
        pr[f['rule']][1] += 1
        pr[f['rule']][0] += id(f) in tp_ids
    for r in sorted(pr, key=lambda r: (pr[r][0] / pr[r][1], r)):
        a, b = pr[r]
        print(f'  {r:36} {a:>3}/{b:<3}    {pct(a, b)}')

    # decoy kinds
    print('\nDECOY KINDS (flagged / planted)')
    dk = collections.Counter(l['kind'] for l in decoys)
    dflag = collections.Counter()
    for l in decoys:
        if l['id'] in hit_decoys:
            dflag[l['kind']] += 1
    for k in sorted(dk, key=lambda k: (-dflag[k], k)):
        print(f'  {k:28} {dflag[k]:>3}/{dk[k]}')

    print('\nMISSED SECRETS')
    for l in sorted((l for l in secrets if l['id'] not in found), key=lambda l: (l['kind'], l['path'], l['line'])):
        print(f'  {l["path"]}:{l["line"]}  {l["kind"]}  {l["secret"][:44]}')

    print('\nCREDITED ONLY THROUGH A FINDING ON A NEIGHBOURING LINE (found by the spec rule, not strictly)')
    for l in sorted((l for l in secrets if l['id'] in found and l['id'] not in found_strict),
                    key=lambda l: (l['kind'], l['path'], l['line'])):
        print(f'  {l["path"]}:{l["line"]}  {l["kind"]}  {l["secret"][:44]}')

    print('\nFALSE POSITIVES')
    for f in sorted(fp, key=lambda f: (f['path'], f['line'])):
        tag = f'decoy:{f["decoy"]["kind"]}' if f.get('decoy') else 'unlabelled'
        txt = line_text(f['path'], f['line']).strip()
        print(f'  {f["path"]}:{f["line"]}  {f["rule"]}  [{tag}]\n      {txt[:120]}')
    if strict_decoy:
        print('\nDECOY HITS MASKED BY AN ADJACENT SECRET (counted TP by the spec rule)')
        for f, d in strict_decoy:
            print(f'  {f["path"]}:{f["line"]}  {f["rule"]}  [decoy:{d["kind"]}]  '
                  f'{line_text(f["path"], f["line"]).strip()[:120]}')


if __name__ == '__main__':
    main()
