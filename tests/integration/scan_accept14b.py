"""Black-box acceptance of this round's scan-engine promises (tests/integration/scan_accept14b.sh),
written from docs/scanning.md alone: `.txt` exports read as tables at L2+ and prose as text, the
`time` type, quotes first seen past the sniffing window, and short hex hashes of any draw in one
resource set. Files come from Python's csv module here, sqlite3, psql and MariaDB in the shell
script, and the DuckDB / apache-arrow / avsc / openpyxl fixtures already committed
(tests/fixtures/columnar/generate-times.sh, tests/fixtures/office/writers/generate.sh).

  scan_accept14b.py tree ROOT SRC        write the tree (seeded: the same every run;
                                         SRC: the source checkout, for the committed fixtures)
  scan_accept14b.py check L1|L2|L3 JSONL ROOT   check; prints every point checked and every one failed
"""
import csv
import io
import json
import os
import random
import shutil
import sys


def put(root, rel, text, encoding='utf-8'):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding=encoding, newline='') as f:
        f.write(text)


def csv_text(rows, delim=',', lineterminator='\n', **kw):
    s = io.StringIO()
    csv.writer(s, delimiter=delim, lineterminator=lineterminator, **kw).writerows(rows)
    return s.getvalue()


# ---- .txt exports and prose ---------------------------------------------------------------------

TXT_HEADER = ['id', 'customer', 'amount', 'ordered']


def txt_rows(rnd, n, note=None):
    rows = []
    for i in range(1, n + 1):
        name = rnd.choice(['Ann Lee', 'Bo Chen', 'Cy Ortiz', 'Di Park'])
        if note:
            name = note(i, name)
        rows.append([str(i), name, '%.2f' % (rnd.random() * 500),
                     '2024-%02d-%02d' % (rnd.randint(1, 12), rnd.randint(1, 28))])
    return rows


TXT_TYPES = ['integer', 'string', 'decimal', 'date']


def txt_files(root, rnd):
    # Python's csv as a user exports "a text file": tab, pipe, with a BOM, CRLF, embedded
    # delimiters of the other kinds, a comma file and a semicolon one.
    put(root, 'txt/py_tab.txt', csv_text([TXT_HEADER] + txt_rows(rnd, 30), '\t'))
    put(root, 'txt/py_pipe_bom_crlf.txt',
        csv_text([TXT_HEADER] + txt_rows(rnd, 30), '|', '\r\n'), 'utf-8-sig')
    put(root, 'txt/py_tab_embedded.txt', csv_text(
        [TXT_HEADER] + txt_rows(rnd, 30, lambda i, n: '%s, Jr.; | ref %d' % (n, i)), '\t'))
    put(root, 'txt/py_comma_crlf.txt', csv_text([TXT_HEADER] + txt_rows(rnd, 30), ',', '\r\n'))
    put(root, 'txt/py_semicolon.txt', csv_text([TXT_HEADER] + txt_rows(rnd, 30), ';'))
    # a footer, as report tools write one: "(30 rows)" is psql's; here a pipe file with it
    put(root, 'txt/py_pipe_footer.txt',
        csv_text([TXT_HEADER] + txt_rows(rnd, 30), '|') + '(30 rows)\n')
    # prose, notes and logs named .txt
    put(root, 'txt/letter.txt', 'Dear John,\nThanks, as always, for the report.\n'
        'I read it twice, once at home.\nBest,\nMary\n')
    put(root, 'txt/notes.txt', ''.join(
        'Meeting %d: we agreed on the budget, the plan, and the dates.\n' % i
        for i in range(1, 8)))
    put(root, 'txt/app_log.txt', ''.join(
        '2024-05-01 10:%02d:%02d INFO worker-%d | job %d done in %d ms\n'
        % (i, i * 3 % 60, i % 3, i, 20 + i) for i in range(1, 40)))
    put(root, 'txt/readme.txt', 'Install\n\n\tRun make.\n\tThen make install.\n\n'
        'Usage\n\n\tshir scan run-local DIR\n\tshir --help\n')
    put(root, 'txt/config.txt', json.dumps({'a': [1, 2], 'b': {'c': 'd|e'}}, indent=2) + '\n')


# ---- time of day --------------------------------------------------------------------------------

TIME_COLS = ['id', 'opens', 'closes', 'precise', 'duration', 'score', 'version', 'zoned',
             'ampm', 'mixed']
TIME_TYPES = ['integer', 'time', 'time', 'time', 'string', 'string', 'string', 'string',
              'string', 'string']


def time_rows(rnd, n):
    rows = []
    for i in range(1, n + 1):
        h, m, s = rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59)
        rows.append([str(i),
                     '%d:%02d' % (h, m),                      # h:mm, one-digit hours too
                     '%02d:%02d:%02d' % (h, m, s),            # hh:mm:ss
                     '%02d:%02d:%02d.%03d' % (h, m, s, i),    # fractions
                     '%d:%02d:00' % (rnd.randint(0, 23) if i % 3 else 24 + i, m),  # durations
                     '%d:%d' % (rnd.randint(0, 5), rnd.randint(0, 5)),  # scores
                     '%d.%d.%d' % (rnd.randint(0, 3), rnd.randint(0, 20), rnd.randint(0, 9)),
                     '%02d:%02dZ' % (h, m),
                     '%d:%02d %s' % (h % 12 or 12, m, 'AM' if h < 12 else 'PM'),
                     '%02d:%02d:00' % (h, m) if i % 2 else '2024-03-01 %02d:%02d:00' % (h, m)])
    return rows


def times(root, src, rnd):
    rows = time_rows(rnd, 40)
    put(root, 'times/shifts.csv', csv_text([TIME_COLS] + rows))
    put(root, 'times/shifts_nohdr.tsv', csv_text(rows, '\t'))
    put(root, 'times/shifts.jsonl', ''.join(
        json.dumps(dict(zip(TIME_COLS, [int(r[0])] + r[1:]))) + '\n' for r in rows))
    for f in ['times.parquet', 'times.arrow', 'times.avro']:
        shutil.copy(os.path.join(src, 'tests/fixtures/columnar', f),
                    os.path.join(root, 'times', f))
    shutil.copy(os.path.join(src, 'tests/fixtures/office/writers/formats.xlsx'),
                os.path.join(root, 'times/openpyxl_formats.xlsx'))


# ---- quotes first seen past the sniffing window -------------------------------------------------

def late_quotes(root, rnd):
    """(name, rows, delimiter, quotechar, line of the first quoted field): Python's csv quotes
    only the fields that need it, so the first quote lands where the first comma-name is."""
    def table(n, at, delim, quote, value):
        rows = [['id', 'name', 'amount', 'city']]
        for i in range(1, n + 1):
            rows.append([str(i), 'Name %d' % i, '%d.%02d' % (i, i % 100),
                         rnd.choice(['Oslo', 'Lima', 'Pune'])])
        rows[at - 1][1] = value   # line `at` of the file (the header is line 1)
        return csv_text(rows, delim, quotechar=quote)
    files = {
        'late/line_sixtyfive.csv': (150, 65, ',', '"', 'Lee, Ann'),
        'late/line_seventy_doubled.csv': (150, 70, ',', '"', 'The "Big" One, Inc'),
        'late/line_twohundred_break.csv': (400, 200, ',', '"', 'Ortiz,\nCy'),        # a line break too
        'late/line_twohundred_semi.csv': (400, 200, ';', '"', 'Park; Di'),
        'late/line_twohundred_single.csv': (400, 200, ',', "'", "Chen, Bo"),
        'late/line_twohundred_tab.tsv': (400, 200, '\t', '"', 'Tab\tinside'),
    }
    for rel, (n, at, d, q, v) in files.items():
        put(root, rel, table(n, at, d, q, v))
    # a file just under 1 MiB (the sample) whose first quoted field is 40 lines before its end
    n = 1
    while len(table(n, 2, ',', '"', 'x')) < 1000000:
        n += 1000
    n -= 1000
    put(root, 'late/near_end.csv', table(n, n - 40, ',', '"', 'Last, First'))
    assert os.path.getsize(os.path.join(root, 'late/near_end.csv')) < 1 << 20
    # a ~1.1 MB file whose first quoted field is a little before 1 MiB, inside the sample
    m = n + 4000
    text = table(m, 2, ',', '"', 'x')
    line = text[:1040000].count('\n') + 1
    put(root, 'late/over_a_mib.csv', table(m, line, ',', '"', 'Past, Window'))
    assert os.path.getsize(os.path.join(root, 'late/over_a_mib.csv')) > 1 << 20
    return {rel: v[0] for rel, v in files.items()} | {'late/near_end.csv': n,
                                                       'late/over_a_mib.csv': m}


# ---- short hex hashes ---------------------------------------------------------------------------

def hashes(root, rnd):
    """Random hashes as a writer draws them: seeded, and the draw is checked to hold hashes of
    letters only and of digits only (a fixed seed, so the same every run)."""
    def draw(n, width):
        seen = set()
        while len(seen) < n:
            seen.add(''.join(rnd.choice('0123456789abcdef') for _ in range(width)))
        return sorted(seen, key=lambda h: rnd.random())
    part = draw(300, 5)
    blob = draw(800, 6)
    upper = [h.upper() for h in draw(1000, 6)]
    dirs = draw(300, 4)
    commits = draw(300, 6)
    kinds = {}
    for name, hs in (('part', part), ('blob', blob), ('upper', upper), ('dirs', dirs),
                     ('commits', commits)):
        kinds[name] = (sum(h.isalpha() for h in hs), sum(h.isdigit() for h in hs))
        assert kinds[name][0] >= 1 and kinds[name][1] >= 1, (name, kinds[name])
    for i, h in enumerate(part):
        put(root, 'hash/parts/part-%05d-%s.csv' % (i, h), 'id,v\n%d,a\n' % i)
    for h in blob:   # no other token in the name
        put(root, 'hash/blobs/blob-%s.csv' % h, 'id,v\n1,a\n')
    for h in upper:
        put(root, 'hash/upper/chunk-%s.csv' % h, 'id,v\n1,a\n')
    for h in dirs:   # object directories, as git and caches name them
        put(root, 'hash/objects/%s/data.csv' % h, 'id,v\n1,a\n')
    for h in commits:
        put(root, 'hash/builds/commit=%s/part.csv' % h, 'id,v\n1,a\n')
    put(root, 'hash/reports/report-cafe.csv', 'id,v\n1,a\n')
    put(root, 'hash/reports/report-final.csv', 'id,v\n1,a\n')
    return kinds


def tree(root, src):
    rnd = random.Random(1402)
    txt_files(root, rnd)
    times(root, src, rnd)
    late = late_quotes(root, rnd)
    kinds = hashes(root, rnd)
    with open(os.path.join(root, 'late_rows.json'), 'w') as f:
        json.dump(late, f)
    print('hashes letters-only/digits-only: %s' % kinds)


# ---- the checks ---------------------------------------------------------------------------------

def check(level, jsonl, root):
    rows = [json.loads(l) for l in open(jsonl)]
    by = {r['qualifiedName'].split(root, 1)[1].lstrip('/'): r for r in rows}
    done = []
    failed = []

    def expect(cond, what):
        if not cond:
            failed.append(what)

    def cols(r):
        return [(c['name'], c['type']) for c in r.get('columns', [])]

    # .txt: tables at L2+, text at L1; prose stays text at every level.
    tables = {'txt/py_tab.txt': 'tsv', 'txt/py_pipe_bom_crlf.txt': 'psv',
              'txt/py_tab_embedded.txt': 'tsv', 'txt/py_comma_crlf.txt': 'csv',
              'txt/py_semicolon.txt': 'ssv', 'txt/py_pipe_footer.txt': 'psv',
              'txt/sqlite_list.txt': 'psv', 'txt/sqlite_tabs.txt': 'tsv',
              'txt/psql_unaligned.txt': 'psv', 'txt/psql_tuples.txt': 'psv',
              'txt/mariadb_outfile.txt': 'tsv', 'txt/mysqldump_tab.txt': 'tsv'}
    headerless = ('txt/psql_tuples', 'txt/mariadb_outfile', 'txt/mysqldump_tab')
    for rel, fmt in tables.items():
        r = by[rel]
        if level == 'L1':
            expect(r['format'] == 'text', (rel, r))
            continue
        expect(r['format'] == fmt, (rel, r))
        if rel.startswith(headerless):   # psql -t: no header, no footer; MariaDB: none
            expect(r['rowCount'] == 30 and cols(r) == list(
                zip(['column%d' % i for i in range(4)], TXT_TYPES)), (rel, r))
        else:
            expect(r['rowCount'] == 30 and cols(r) == list(zip(TXT_HEADER, TXT_TYPES)), (rel, r))
        expect(r['errors'] == [], (rel, r['errors']))
    if level != 'L1':
        expect(by['txt/py_pipe_bom_crlf.txt']['encoding'] == 'utf-8', by['txt/py_pipe_bom_crlf.txt'])
    for rel in ['txt/letter.txt', 'txt/notes.txt', 'txt/app_log.txt', 'txt/readme.txt',
                'txt/config.txt']:
        expect(by[rel]['format'] == 'text', (rel, by[rel]))
    done.append('.txt: Python csv (tab, pipe+BOM+CRLF, embedded delimiters, comma, semicolon, '
                'footer), sqlite3 list/tabs, psql -A / -At, MariaDB INTO OUTFILE and mysqldump --tab '
                '(escaped tab and line break) as tables; letter, notes, log, '
                'readme, JSON stay text')

    # time of day
    if level != 'L1':
        for rel, names in [('times/shifts.csv', TIME_COLS),
                           ('times/shifts_nohdr.tsv', ['column%d' % i for i in range(10)])]:
            r = by[rel]
            expect(r['rowCount'] == 40 and cols(r) == list(zip(names, TIME_TYPES)), (rel, r))
        j = by['times/shifts.jsonl']
        expect(sorted(cols(j)) == sorted(zip(TIME_COLS, TIME_TYPES)), j)
        for rel, want in [
                ('times/times.parquet', [('id', 'integer'), ('opens', 'time'),
                                         ('seen', 'timestamp')]),
                ('times/times.arrow', [('id', 'integer'), ('opens_ms', 'time'),
                                       ('opens_us', 'time'), ('seen', 'timestamp')]),
                ('times/times.avro', [('id', 'integer'), ('opens_ms', 'time'),
                                      ('opens_us', 'time'), ('seen', 'timestamp')])]:
            expect(cols(by[rel]) == want and by[rel]['rowCount'] == 20, (rel, by[rel]))
        x = dict(cols(by['times/openpyxl_formats.xlsx']))
        expect(x['Fmt!time'] == 'time' and x['Fmt!elapsed'] == 'string', x)
        m = cols(by['times/mariadb_times.txt'])   # TIME of day, TIME as a duration past 24h
        expect(m == [('column0', 'integer'), ('column1', 'time'), ('column2', 'string')] and
               by['times/mariadb_times.txt']['rowCount'] == 30, by['times/mariadb_times.txt'])
        p = dict(cols(by['times/pg_times.txt']))
        expect(p == {'id': 'integer', 'opens': 'time', 'closes': 'time', 'span': 'string',
                     'zoned': 'string'}, p)
        done.append('time: CSV/TSV/JSONL h:mm, hh:mm:ss, fractions; durations, scores, '
                    'versions, zoned, AM/PM, time+timestamp mixes not; Parquet/Arrow/Avro '
                    'declared; XLSX time format vs elapsed; psql time/interval/timetz; '
                    'MariaDB TIME of day and past 24h')

    # quotes past the window
    if level != 'L1':
        late = json.load(open(os.path.join(root, 'late_rows.json')))
        for rel, n in late.items():
            r = by[rel]
            expect(r['rowCount'] == n and r['errors'] == [], (rel, n, r))
            expect(cols(r) == [('id', 'integer'), ('name', 'string'), ('amount', 'decimal'),
                               ('city', 'string')], (rel, r))
        done.append('late quotes: first quoted field at line 65, 70 (doubled), 200 (line break, '
                    "semicolon, ', tab), 40 lines before the end of a ~1 MB file and at byte "
                    '~1.04 M of a 1.1 MB file')

    # hashes
    got = {k: r['partitionCount'] for k, r in by.items()
           if r['type'] == 'resource_set' and k.startswith('hash/')}
    expect(got == {'hash/parts/part-{N}-{Hex}.csv': 300, 'hash/blobs/blob-{Hex}.csv': 800,
                   'hash/upper/chunk-{Hex}.csv': 1000, 'hash/objects/{Hex}/data.csv': 300,
                   'hash/builds/commit={Hex}/part.csv': 300}, got)
    files = sorted(k for k, r in by.items() if r['type'] == 'file' and k.startswith('hash/'))
    expect(files == ['hash/reports/report-cafe.csv', 'hash/reports/report-final.csv'], files)
    done.append('hashes: 300 part-N-<5 hex>, 800 blob-<6 hex>, 1000 chunk-<6 HEX>, 300 <4 hex>/ '
                'directories, 300 commit=<6 hex>/ (letters-only and digits-only draws among '
                'each) one set each; report-cafe beside report-final two files')
    for what in failed:
        print('  FAILED', level, what)
    for line in done:
        print('  checked', level, line)
    return not failed


if __name__ == '__main__':
    if sys.argv[1] == 'tree':
        tree(sys.argv[2], sys.argv[3])
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)
