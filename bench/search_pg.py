"""The alternative ADR 0015 rejected, measured: PostgreSQL pg_trgm over the same 100k catalogue.

``python -m bench.search_pg --n 100000`` loads the generated catalogue into a fresh database, adds a
GIN trigram index on the name, and times the quality queries (a word-similarity match ranked by
similarity, the best PostgreSQL can do for Chinese without a segmenting parser such as zhparser,
which Debian's PostgreSQL does not ship). Prints p50/p95 and the top-3 hit rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import asyncpg
from sqlalchemy.engine import make_url

from bench.catalogue_gen import generate
from bench.search import MIGRATIONS, QUERIES, load_table, percentile
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database
from yiwang_gateway.config import Settings
from yiwang_gateway.search.quality import load_cases

SQL = """
SELECT name FROM gateway.catalogue_item
WHERE name %> $1 OR name LIKE '%' || $1 || '%'
ORDER BY word_similarity($1, name) DESC LIMIT 50
"""


async def run(n: int) -> dict[str, float]:
    url = await create_database("yiwang_bench_pg")
    try:
        await upgrade_database(Settings(database={"url": url, "schema_name": "gateway"}).database, MIGRATIONS)
        await load_table(url, list(generate(n)))
        conn = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            await conn.execute("CREATE INDEX ON gateway.catalogue_item USING gin (name gin_trgm_ops)")
            await conn.execute("ANALYZE gateway.catalogue_item")
            cases = load_cases(QUERIES)
            lat, hits = [], 0
            for _ in range(3):
                for case in cases:
                    t = time.perf_counter()
                    rows = await conn.fetch(SQL, case.query)
                    lat.append((time.perf_counter() - t) * 1000)
                    names = list(dict.fromkeys(r["name"] for r in rows))[:3]
                    hits += all(e in names for e in case.expected)
        finally:
            await conn.close()
    finally:
        await drop_database(url)
    return {
        "items": n,
        "pg_trgm_p50_ms": round(percentile(lat, 0.5), 2),
        "pg_trgm_p95_ms": round(percentile(lat, 0.95), 2),
        "pg_trgm_hit_rate_top3": round(hits / (3 * len(load_cases(QUERIES))), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    print(json.dumps(asyncio.run(run(parser.parse_args().n)), indent=2))


if __name__ == "__main__":
    main()
