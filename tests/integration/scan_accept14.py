"""Black-box acceptance of issue 14 (tests/integration/scan_accept14.sh): a tree of files written
the way an outside tester writes them, then every contract point checked in the JSON lines of a
real `shir scan run-local`.

  scan_accept14.py tree ROOT FIXTURES   write the tree (stdlib only, seeded: the same every run;
                                        FIXTURES: tests/fixtures/accept14, written by npm tools)
  scan_accept14.py check L2|L3 JSONL ROOT   assert; prints one line per contract point
"""
import csv
import io
import json
import os
import random
import shutil
import sys
import zipfile


# ---- the tree -----------------------------------------------------------------------------------

ORDERS_HEADER = ['order_id', 'description', 'unit_price', 'ship_date', 'paid']
DELIMS = {',': 'comma', ';': 'semi', '\t': 'tab', '|': 'pipe'}


def put(root, rel, text, encoding='utf-8'):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding=encoding, newline='') as f:
        f.write(text)


def csv_text(rows, delim, quoting=csv.QUOTE_MINIMAL):
    s = io.StringIO()
    csv.writer(s, delimiter=delim, quoting=quoting, lineterminator='\n').writerows(rows)
    return s.getvalue()


def delimited(root, rnd):
    """Every delimiter x header / no header under .csv, .tsv/.psv and an unknown .dat, over
    labels holding the other delimiters and doubled quotes."""
    rows = []
    for i in range(1, 41):
        label = rnd.choice(['Widget, large', 'Gadget; blue', 'Pipe | fitting', 'Tab\there',
                            'Item, "quoted" %d' % i, 'He said "hi"; left', 'a|b,c;d'])
        rows.append([str(1000 + i), label, '%.2f' % (rnd.random() * 100),
                     '2024-%02d-%02d' % (rnd.randint(1, 12), rnd.randint(1, 28)),
                     rnd.choice(['true', 'false'])])
    own = {',': 'csv', ';': 'csv', '\t': 'tsv', '|': 'psv'}
    for d, name in DELIMS.items():
        for ext in sorted({own[d], 'csv', 'dat'}):
            put(root, 'delim/orders_%s_hdr.%s' % (name, ext), csv_text([ORDERS_HEADER] + rows, d))
            put(root, 'delim/orders_%s_nohdr.%s' % (name, ext), csv_text(rows, d))
        every = [[str(i), 'Item, "quoted" %d; x | y\tz' % i, '%d.5' % i] for i in range(1, 31)]
        put(root, 'delim/allseps_%s.csv' % name, csv_text(every, d, csv.QUOTE_ALL))


def resource_sets(root, rnd):
    # one drew digits only, one letters only
    hexes = ['83b6a9', 'bc8342', '123456', 'f1cc12', 'c238f8', '8fe36a', 'fdaecb']
    for i, h in enumerate(hexes):
        put(root, 'sets/hashes/part-%05d-%s.csv' % (i, h), 'id,name\n1,a\n')
    for h in ['9c1e4a', 'd20b7f', 'ebcadf']:  # no other token: the letters-only name too
        put(root, 'sets/chunks/chunk-%s.csv' % h, 'id,name\n1,a\n')
    for i in range(1, 13):
        put(root, 'sets/numbers/log_%d.csv' % i, 'id,name\n1,a\n')
    for d in ['2024-01-01', '2024-01-02', '2024-02-29', '2024-12-31']:
        put(root, 'sets/dates/sales_%s.csv' % d, 'id,name\n1,a\n')
    for _ in range(4):
        g = '%08x-%04x-4%03x-a%03x-%012x' % (rnd.getrandbits(32), rnd.getrandbits(16),
                                            rnd.getrandbits(12), rnd.getrandbits(12),
                                            rnd.getrandbits(48))
        put(root, 'sets/guids/export-%s.csv' % g, 'id,name\n1,a\n')
    for region in ['eu', 'us', 'apac']:
        for year in [2023, 2024]:
            put(root, 'sets/hive/region=%s/year=%d/data.csv' % (region, year), 'id\n1\n')
    for n in (1, 2):  # same numbers, other shapes: three sets
        put(root, 'sets/shapes/report_%d.csv' % n, 'id\n1\n')
        put(root, 'sets/shapes/report_%d.json' % n, '{"a": 1}\n')
        put(root, 'sets/shapes/summary_%d.csv' % n, 'id\n1\n')


def cp1252(root):
    rows = [['naam', 'omschrijving', 'prijs €'],
            ['Škoda', '“Smart” quotes – en dash', '12,50 €'],
            ['Ÿvonne', 'it’s … fine', '€ 3']]
    put(root, 'cp1252/klanten.csv', csv_text(rows, ';'), 'cp1252')
    put(root, 'cp1252/brief.txt', 'Geachte heer Šimon,\n“Dank u” voor € 1.250,00 – Ÿ.\n'
        'Contact: “jan.devries@example.nl”\n', 'cp1252')


def bsn_ok(s):
    d = [int(c) for c in s]
    return (sum((9 - i) * d[i] for i in range(8)) - d[8]) % 11 == 0


def taxid_check(d10):
    p = 10
    for ch in d10:
        s = (int(ch) + p) % 10 or 10
        p = (s * 2) % 11
    c = 11 - p
    return 0 if c == 10 else c


def checksummed(root, rnd):
    def bsn():
        while True:
            s = '%09d' % rnd.randrange(10**7, 10**9)
            if bsn_ok(s):
                return s

    def bsn_near():
        s = bsn()
        return s[:8] + str((int(s[8]) + rnd.randint(1, 9)) % 10)  # a wrong check digit

    def taxid():
        while True:
            d10 = str(rnd.randrange(10**9, 10**10))
            counts = sorted(d10.count(x) for x in set(d10))
            # one digit two or three times, every other one once
            if counts[-1] in (2, 3) and counts.count(1) == 10 - counts[-1]:
                return d10 + str(taxid_check(d10))

    def taxid_near():
        t = taxid()
        return t[:10] + str((int(t[10]) + rnd.randint(1, 9)) % 10)

    n = 100
    cols = {
        'attr_b': [bsn() for _ in range(n)],
        'attr_c': [taxid() for _ in range(n)],
        'field_7': [bsn_near() for _ in range(n)],
        'field_8': [taxid_near() for _ in range(n)],
        'ref_no': [str(rnd.randrange(10**8, 10**9)) for _ in range(n)],
        'order_id': [bsn() if i % 10 < 7 else bsn_near() for i in range(n)],
    }
    table = [list(cols)] + [list(r) for r in zip(*cols.values())]
    put(root, 'ids/export_ids.csv', csv_text(table, ','))


def bombs(root, fixtures):
    """Ratio bombs in a document body and in a sheet cell, a nested archive, a plain zip."""
    def rewrite(src, dst, replace=None, extra=()):
        zi = zipfile.ZipFile(src)
        with zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as zo:
            for it in zi.infolist():
                data = zi.read(it.filename)
                zo.writestr(it.filename, (replace or {}).get(it.filename, data))
            for name, data in extra:
                zo.writestr(name, data)
    os.makedirs(os.path.join(root, 'bombs'))
    body = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            b'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>mail '
            b'owner@example.com</w:t></w:r></w:p>' +
            (b'<w:p><w:r><w:t>' + b'A' * 1000 + b'</w:t></w:r></w:p>') * 70000 +
            b'</w:body></w:document>')
    rewrite(os.path.join(fixtures, 'formats.docx'), os.path.join(root, 'bombs/bomb.docx'),
            {'word/document.xml': body})
    wb = os.path.join(fixtures, 'workbook.xlsx')
    sheet = zipfile.ZipFile(wb).read('xl/worksheets/sheet1.xml')
    i = sheet.index(b'<sheetData>') + len(b'<sheetData>')
    j = sheet.index(b'</row>', i) + len(b'</row>')
    cell = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + b'y' * (8 << 20) + b'</t></is></c></row>'
    rewrite(wb, os.path.join(root, 'bombs/cell_bomb.xlsx'),
            {'xl/worksheets/sheet1.xml': sheet[:i] + cell + sheet[j:]})
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr('zeros.bin', b'\0' * (16 << 20))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('inner.zip', inner.getvalue())
    rewrite(os.path.join(fixtures, 'formats.docx'), os.path.join(root, 'bombs/nested.docx'),
            extra=[('word/embeddings/package.zip', outer.getvalue())])
    with open(os.path.join(root, 'bombs/archive.zip'), 'wb') as f:
        f.write(outer.getvalue())
    put(root, 'bombs/zz_after.csv', 'a,b\n1,x\n')


def tree(root, fixtures):
    rnd = random.Random(14)
    delimited(root, rnd)
    resource_sets(root, rnd)
    cp1252(root)
    checksummed(root, rnd)
    bombs(root, fixtures)
    os.makedirs(os.path.join(root, 'office'))
    for f in ['workbook.xlsx', 'payments.xlsx', 'review.pptx', 'formats.docx']:
        shutil.copy(os.path.join(fixtures, f), os.path.join(root, 'office', f))
    os.makedirs(os.path.join(root, 'columnar'))
    for f in ['sensors.feather', 'sensors_lz4.arrow', 'events_lz4_raw.parquet',
              'events_brotli.parquet', 'events_lz4_hadoop.parquet', 'events_deflate.avro',
              'events_snappy.avro']:
        shutil.copy(os.path.join(fixtures, f), os.path.join(root, 'columnar', f))
    shutil.copytree(os.path.join(fixtures, 'orders_delta'), os.path.join(root, 'lake/orders_delta'))
    shutil.copy(os.path.join(fixtures, 'orders_delta.expect.json'),
                os.path.join(root, 'expect.json'))


# ---- the checks ---------------------------------------------------------------------------------

def check(level, jsonl, root):
    rows = [json.loads(l) for l in open(jsonl)]
    by = {}
    for r in rows:
        by[r['qualifiedName'].split(root, 1)[1].lstrip('/')] = r
    done = []

    def cols(r):
        return [(c['name'], c['type']) for c in r['columns']]

    def ok(what):
        done.append(what)

    # Delimited: dialect, header, columnN names, row counts, types.
    fmt = {',': 'csv', ';': 'ssv', '\t': 'tsv', '|': 'psv'}
    types = ['integer', 'string', 'decimal', 'date', 'boolean']
    for d, name in DELIMS.items():
        for rel, r in by.items():
            if not rel.startswith('delim/orders_%s_' % name):
                continue
            names = ORDERS_HEADER if '_hdr.' in rel else ['column%d' % i for i in range(5)]
            assert r['format'] == fmt[d], (rel, r['format'])
            assert r['rowCount'] == 40 and cols(r) == list(zip(names, types)), (rel, r)
            assert r['errors'] == [], (rel, r['errors'])
        r = by['delim/allseps_%s.csv' % name]
        assert r['format'] == fmt[d] and r['rowCount'] == 30, r
        assert cols(r) == [('column0', 'integer'), ('column1', 'string'),
                           ('column2', 'decimal')], r
    ok('delimited: 4 delimiters x header/no header x .csv/.tsv/.psv/.dat, 24 files')

    # Resource sets: one set each, with its member count; other shapes apart.
    want = {'sets/hashes/part-{N}-{Hex}.csv': 7, 'sets/chunks/chunk-{Hex}.csv': 3,
            'sets/numbers/log_{N}.csv': 12,
            'sets/dates/sales_{Date}.csv': 4, 'sets/guids/export-{GUID}.csv': 4,
            'sets/hive/region={*}/year={N}/data.csv': 6, 'sets/shapes/report_{N}.csv': 2,
            'sets/shapes/report_{N}.json': 2, 'sets/shapes/summary_{N}.csv': 2}
    got = {k: r['partitionCount'] for k, r in by.items()
           if r['type'] == 'resource_set' and k.startswith('sets/')}
    assert got == want, got
    assert not [k for k in by if k.startswith('sets/') and by[k]['type'] == 'file'], by.keys()
    ok('resource sets: hashes (one all digits, one all letters), numbers, dates, GUIDs, '
       'key=value; shapes apart')

    # Windows-1252.
    k = by['cp1252/klanten.csv']
    assert k['encoding'] == 'windows-1252' and k['format'] == 'ssv', k
    assert [c['name'] for c in k['columns']] == ['naam', 'omschrijving', 'prijs €'], k
    t = by['cp1252/brief.txt']
    assert t['encoding'] == 'windows-1252' and t['format'] == 'text', t
    if level == 'L3':
        assert t['classificationCounts'] == {'EMAIL_ADDRESS': 1}, t
    ok('windows-1252: CSV and text decoded, encoding reported')

    # Check digits under generic names.
    if level == 'L3':
        ids = {c['name']: c['classifications'] for c in by['ids/export_ids.csv']['columns']}
        assert ids == {'attr_b': ['NL_BSN'], 'attr_c': ['DE_TAX_ID'], 'field_7': [],
                       'field_8': [], 'ref_no': [], 'order_id': ['NL_BSN']}, ids
        ok('check digits: BSN, German tax id under attr_b/attr_c/order_id; near-misses unlabelled')

    # Office.
    w = by['office/workbook.xlsx']
    assert w['format'] == 'xlsx' and w['rowCount'] == 62, w
    assert cols(w)[:8] == [('Customers!id', 'integer'), ('Customers!email', 'string'),
                           ('Customers!joined', 'date'), ('Customers!balance', 'decimal'),
                           ('Customers!active', 'boolean'), ('Raw!column0', 'integer'),
                           ('Raw!column1', 'string'), ('Raw!column2', 'decimal')], w
    p = by['office/payments.xlsx']
    assert p['rowCount'] == 65 and ('Payments!paid_on', 'timestamp') in cols(p), p
    if level == 'L3':
        pc = {c['name']: c['classifications'] for c in p['columns']}
        assert pc['Payments!iban'] == ['IBAN'] and pc['Payments!attr_b'] == ['NL_BSN'], pc
        assert pc['Payments!card'] == ['CREDIT_CARD_NUMBER'], pc
        assert by['office/review.pptx']['classificationCounts'] == {
            'EMAIL_ADDRESS': 4, 'CREDIT_CARD_NUMBER': 2, 'IBAN': 2}, by['office/review.pptx']
        assert by['office/formats.docx']['classificationCounts'] == {
            'EMAIL_ADDRESS': 3, 'CREDIT_CARD_NUMBER': 3, 'IBAN': 3, 'US_SSN': 1,
            'PHONE_NUMBER': 1}, by['office/formats.docx']
    ok('office: XLSX sheets, headers, types; DOCX and PPTX counts')

    # Bombs: bounded, reported, the scan goes on.
    if level == 'L3':
        b = by['bombs/bomb.docx']
        # the body's e-mail; its 64 MiB prefix fills the 20 MiB of text before the header
        assert b['classificationCounts'] == {'EMAIL_ADDRESS': 1}, b
        assert len(b['errors']) == 1 and 'document.xml inflates past' in b['errors'][0], b
    c = by['bombs/cell_bomb.xlsx']
    assert len(c['errors']) == 1 and 'sheet1.xml inflates past' in c['errors'][0], c
    assert 'rowCount' not in c and cols(c)[0] == ('Raw!column0', 'integer'), c
    assert by['bombs/nested.docx']['errors'] == [], by['bombs/nested.docx']
    assert by['bombs/archive.zip']['format'] == 'binary', by['bombs/archive.zip']
    assert by['bombs/zz_after.csv']['rowCount'] == 1, by['bombs/zz_after.csv']
    ok('bombs: a document body, a sheet cell, a nested archive, a plain zip')

    # Arrow IPC / Feather v2.
    for f in ['columnar/sensors.feather', 'columnar/sensors_lz4.arrow']:
        a = by[f]
        assert a['format'] == 'arrow' and a['rowCount'] == 400 and a['errors'] == [], a
        assert [(c['name'], c['type'], c['typeDetail']) for c in a['columns']] == [
            ('id', 'integer', 'Int(32,signed)'), ('value', 'decimal', 'FloatingPoint(DOUBLE)'),
            ('city', 'string', 'Utf8 dictionary'), ('name', 'string', 'Utf8'),
            ('ts', 'timestamp', 'Timestamp(MILLISECOND)'), ('ok', 'boolean', 'Bool')], a
    ok('arrow: three batches, a dictionary, LZ4 bodies')

    # Parquet and Avro codecs.
    for f, n in [('events_lz4_raw.parquet', 300), ('events_brotli.parquet', 300),
                 ('events_lz4_hadoop.parquet', 300), ('events_deflate.avro', 200),
                 ('events_snappy.avro', 200)]:
        a = by['columnar/' + f]
        assert a['rowCount'] == n and a['errors'] == [], a
        if level == 'L3':
            assert 'EMAIL_ADDRESS' in a['classifications'], a
    ok('codecs: Parquet LZ4_RAW, BROTLI, LZ4 (Hadoop); Avro deflate, snappy (values sampled at L3)')

    # Delta: one table asset, nothing of its files.
    exp = json.load(open(os.path.join(root, 'expect.json')))
    d = by['lake/orders_delta']
    assert d['type'] == 'table' and d['format'] == 'delta', d
    assert d['tableVersion'] == exp['version'] and d['liveFiles'] == exp['liveFiles'], d
    assert d['size'] == exp['size'] and d['rowCount'] == exp['rows'], d
    assert [(c['name'], c['typeDetail']) for c in d['columns']] == [
        ('order_id', 'long'), ('customer', 'string'), ('amount', 'double'),
        ('order_date', 'date'), ('country', 'string partition')], d
    assert not [k for k in by if k.startswith('lake/orders_delta/')], by.keys()
    ok('delta: one table, version, live files, bytes, rows, partition column; no set of its files')
    for line in done:
        print('  ok', level, line)


if __name__ == '__main__':
    if sys.argv[1] == 'tree':
        tree(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
