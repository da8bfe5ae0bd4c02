#!/usr/bin/python3
"""Two long-text cross-lingual collections built from Tatoeba (issue 13).

Not a tuning set: a check that longer texts keep the cross-lingual figures
(the issue's second collection, which is not in this repository, has longer
texts). For each pair X-eng of ../shared/datasets/tatoeba, the 1,000 sentence
pairs are shuffled (fixed seed) and cut into 200 groups of 5; each group's 5
English sentences, joined, are one English document. Then

  X-A: each group's 5 X sentences, joined, are one query (200 queries);
  X-B: each X sentence alone is a query (1,000 queries) whose one relevant
       document is its group's.

Usage: bench/longtext_proxy.py [TATOEBA_DIR] [OUT_DIR], then for each
OUT_DIR/X-V: peermatch eval --corpus corpus.jsonl --queries queries_test.jsonl
--qrels qrels/test.tsv (README "Longer texts").
"""
import json
import os
import random
import sys

PAIRS = ['fra', 'spa', 'por', 'deu', 'cmn', 'ara', 'rus', 'kor']


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return {r['_id']: r for r in map(json.loads, f)}


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), '..', '..', 'shared', 'datasets', 'tatoeba')
    out = sys.argv[2] if len(sys.argv) > 2 else 'longtext'
    for pair in PAIRS:
        d = os.path.join(src, pair + '-eng')
        corpus = read_jsonl(os.path.join(d, 'corpus.jsonl'))
        queries = read_jsonl(os.path.join(d, 'queries_test.jsonl'))
        with open(os.path.join(d, 'qrels', 'test.tsv'), encoding='utf-8') as f:
            qrels = [line.split('\t')[:2] for line in f.read().splitlines()[1:]]
        random.Random(13).shuffle(qrels)
        groups = [qrels[i:i + 5] for i in range(0, len(qrels), 5)]
        for variant in 'AB':
            o = os.path.join(out, f'{pair}-{variant}')
            os.makedirs(os.path.join(o, 'qrels'), exist_ok=True)
            with open(os.path.join(o, 'corpus.jsonl'), 'w', encoding='utf-8') as c, \
                    open(os.path.join(o, 'queries_test.jsonl'), 'w', encoding='utf-8') as q, \
                    open(os.path.join(o, 'qrels', 'test.tsv'), 'w', encoding='utf-8') as r:
                r.write('query-id\tcorpus-id\tscore\n')
                for gi, group in enumerate(groups):
                    doc = f'doc{gi:04d}'
                    text = ' '.join(corpus[e]['text'] for _, e in group)
                    c.write(json.dumps({'_id': doc, 'title': '', 'text': text, 'language': 'en'},
                                       ensure_ascii=False) + '\n')
                    if variant == 'A':
                        joined = ' '.join(queries[x]['text'] for x, _ in group)
                        lang = queries[group[0][0]]['language']
                        q.write(json.dumps({'_id': f'q{gi:04d}', 'text': joined, 'language': lang},
                                           ensure_ascii=False) + '\n')
                        r.write(f'q{gi:04d}\t{doc}\t1\n')
                    else:
                        for x, _ in group:
                            q.write(json.dumps(queries[x], ensure_ascii=False) + '\n')
                            r.write(f'{x}\t{doc}\t1\n')
        print(f'{pair}: {len(groups)} documents', file=sys.stderr)


if __name__ == '__main__':
    main()
