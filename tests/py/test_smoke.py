import asyncpg
import os


async def test_connects():
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    assert await conn.fetchval("SELECT count(*) FROM booking.error_codes") > 0
    await conn.close()
