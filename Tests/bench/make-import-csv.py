#!/usr/bin/env python3
"""Writes a residents CSV for the import benchmark (Tests/bench/residents-bench.sh).

The columns are those staff export from Excel:
    姓名,身份证号,手机号,小区,楼栋,单元,房号,与房屋关系,政治面貌,标签,备注
Addresses are houses that exist in the given community of a seeded database. ID numbers are
valid (GB 11643 check character) and use Wenzhou area codes (3303xx), which `jinlin seed`
never uses, so none of them is already present. Deterministic for a given --seed.

Usage: make-import-csv.py --db jinlin.sqlite --community-id 12 --rows 100000 --out import.csv
"""
import argparse
import csv
import random
import sqlite3
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
AREAS = ["330302", "330303", "330304", "330305", "330324", "330326", "330327", "330381", "330382"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国志红梅玉兰春晓文德秀海燕子涵雨萱浩然"
RELATIONS = [("常住", 80), ("租住", 10), ("产权人", 8), ("户籍", 2)]
POLITICAL = [("群众", 86), ("中共党员", 7), ("共青团员", 5), ("中共预备党员", 1), ("无党派人士", 1)]
TAGS = [("", 95), ("残疾人", 2), ("退役军人", 1), ("低保户", 1), ("重病患者", 1)]
PREFIXES = ["130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158",
            "159", "177", "180", "181", "186", "187", "188", "189", "199"]


def pick(rng, table):
    total = sum(w for _, w in table)
    x = rng.randrange(total)
    for value, weight in table:
        if x < weight:
            return value
        x -= weight
    return table[-1][0]


def check_character(first17):
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--community-id", type=int, required=True)
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    path = db.execute("SELECT path FROM grids WHERE id = ?", (args.community_id,)).fetchone()
    if path is None:
        sys.exit(f"no grid node {args.community_id}")
    lower = path[0]
    upper = lower[:-1] + "0"  # '/' + 1: the end of the subtree range
    houses = db.execute(
        """
        SELECT e.name, b.name, h.unit, h.room
        FROM houses h
        JOIN grids b ON b.id = h.building_id
        JOIN grids g ON g.id = b.parent_id
        JOIN grids e ON e.id = g.parent_id
        WHERE b.path >= ? AND b.path < ?
        ORDER BY h.id
        """,
        (lower, upper),
    ).fetchall()
    if not houses:
        sys.exit(f"community {args.community_id} has no houses: seed residents first")

    used = {}
    with open(args.out, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(["姓名", "身份证号", "手机号", "小区", "楼栋", "单元", "房号", "与房屋关系", "政治面貌", "标签", "备注"])
        for i in range(args.rows):
            male = rng.random() < 0.5
            while True:
                area = rng.choice(AREAS)
                year = rng.randint(1935, 2019)
                month = rng.randint(1, 12)
                day = rng.randint(1, 28)
                key = (area, year, month, day, male)
                n = used.get(key, 0)
                if n < 499:
                    used[key] = n + 1
                    break
            sequence = 2 * n + 1 if male else 2 * n + 2
            first17 = f"{area}{year:04d}{month:02d}{day:02d}{sequence:03d}"
            id_number = first17 + check_character(first17)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))
            phone = rng.choice(PREFIXES) + f"{rng.randrange(100_000_000):08d}" if rng.random() < 0.85 else ""
            estate, building, unit, room = houses[i % len(houses)]
            political = pick(rng, POLITICAL)
            if political == "共青团员" and not (2026 - year) in range(14, 29):
                political = "群众"
            out.writerow([name, id_number, phone, estate, building, unit, room, pick(rng, RELATIONS), political,
                          pick(rng, TAGS), "批量导入测试" if rng.random() < 0.05 else ""])


if __name__ == "__main__":
    main()
