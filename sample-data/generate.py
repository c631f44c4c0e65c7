#!/usr/bin/env python3
"""Generate shir's bundled sample data (committed; rerun to reproduce it byte for byte).

A few hundred KB that exercise every part of a scan: delimited text (CSV with sensitive
columns), JSON lines, Parquet and Avro (copied from tests/fixtures/columnar/, written by DuckDB
and avsc there, so no Python Parquet library is needed), a partitioned folder that becomes one
resource set, daily logs that become another, and a text file with planted FAKE sensitive
values. Every value is synthetic: random card numbers with real issuer prefixes and lengths made
Luhn-valid, random SSNs in the valid area/group/serial ranges (so validators accept them; none is
anyone's), example.com/example.org addresses, 202-555-01xx phone numbers, and AWS's documented
example key pair.

Usage: python3 sample-data/generate.py   (writes next to this script; fixed seed)
"""
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
rng = random.Random(20251125)

FIRST = ["Ann", "Bob", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal",
         "Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Rui", "Sara", "Tom"]
LAST = ["Smith", "Garcia", "Okafor", "Tanaka", "Novak", "Silva", "Khan", "Muller", "Rossi",
        "Kim", "Dubois", "Jensen"]
COUNTRIES = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "NG"]


def luhn_complete(prefix, length):
    """Append digits then the Luhn check digit so the number validates."""
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(rng.randrange(10))
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    digits.append((10 - total % 10) % 10)
    return "".join(map(str, digits))


def card():
    # Visa 4, Mastercard 51-55, Amex 34/37: issuer prefixes with the right lengths.
    kind = rng.randrange(3)
    if kind == 0:
        return luhn_complete("4", 16)
    if kind == 1:
        return luhn_complete(str(rng.randrange(51, 56)), 16)
    return luhn_complete(rng.choice(["34", "37"]), 15)


def ssn():
    # Area 001-665 or 667-899, group 01-99, serial 0001-9999: valid shape, made up.
    area = rng.randrange(1, 899)
    if area == 666:
        area = 667
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def email(first, last):
    return f"{first.lower()}.{last.lower()}{rng.randrange(100)}@example.{rng.choice(['com', 'org'])}"


def phone():
    return f"+1-202-555-{rng.randrange(100, 200):04d}"


def write(rel, text):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(text)


def customers():
    rows = ["id,first_name,last_name,email,phone,ssn,card_number,country,signup_date"]
    for i in range(1, 401):
        fn, ln = rng.choice(FIRST), rng.choice(LAST)
        day = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        rows.append(f"{i},{fn},{ln},{email(fn, ln)},{phone()},{ssn()},{card()},"
                    f"{rng.choice(COUNTRIES)},{day}")
    write("crm/customers.csv", "\n".join(rows) + "\n")


def events():
    lines = []
    for i in range(1, 501):
        fn, ln = rng.choice(FIRST), rng.choice(LAST)
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        lines.append('{"event_id":%d,"ts":"2025-11-%02dT%02d:%02d:00Z","user":{"email":"%s",'
                     '"country":"%s"},"ip":"%s","action":"%s","amount":%d.%02d}'
                     % (i, rng.randrange(1, 29), rng.randrange(24), rng.randrange(60),
                        email(fn, ln), rng.choice(COUNTRIES), ip,
                        rng.choice(["login", "view", "purchase", "logout"]),
                        rng.randrange(500), rng.randrange(100)))
    write("web/events.jsonl", "\n".join(lines) + "\n")


def sales():
    for month in (1, 2, 3):
        for part in range(1, 5):
            rows = ["order_id,sku,quantity,unit_price,order_date"]
            for k in range(40):
                oid = month * 100000 + part * 1000 + k
                rows.append(f"{oid},SKU-{rng.randrange(1000, 9999)},{rng.randrange(1, 20)},"
                            f"{rng.randrange(1, 500)}.{rng.randrange(100):02d},"
                            f"2025-{month:02d}-{rng.randrange(1, 29):02d}")
            write(f"sales/year=2025/month={month:02d}/part-{part:04d}.csv", "\n".join(rows) + "\n")


def logs():
    for day in range(1, 10):
        lines = []
        for k in range(120):
            ip = f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            lines.append(f"2025-11-0{day}T{k // 5:02d}:{k % 60:02d}:00Z INFO api request from {ip} "
                         f"path=/v1/items/{rng.randrange(10000)} status={rng.choice([200, 200, 404, 500])}")
        write(f"logs/2025-11-0{day}.log", "\n".join(lines) + "\n")


def planted():
    fn, ln = "Ann", "Example"
    text = f"""Support ticket export (SYNTHETIC - every value below is fake test data)

Customer {fn} {ln} <{email(fn, ln)}> called about a double charge.
Card on file: {card()} (also tried {card()}).
Identity check: SSN {ssn()}, callback {phone()}.
Second contact: billing@example.com, SSN {ssn()}.

Engineering note: an access key was pasted into the ticket by mistake and has been rotated:
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

Unrelated numbers that must NOT be flagged as cards: order 4111111111111112, invoice 1234-5678.
"""
    write("support/ticket-4471.txt", text)


def columnar():
    src = os.path.join(REPO, "tests", "fixtures", "columnar")
    os.makedirs(os.path.join(HERE, "warehouse"), exist_ok=True)
    shutil.copyfile(os.path.join(src, "flat_snappy.parquet"),
                    os.path.join(HERE, "warehouse", "accounts.parquet"))
    shutil.copyfile(os.path.join(src, "customers_deflate.avro"),
                    os.path.join(HERE, "warehouse", "customers.avro"))


if __name__ == "__main__":
    customers()
    events()
    sales()
    logs()
    planted()
    columnar()
