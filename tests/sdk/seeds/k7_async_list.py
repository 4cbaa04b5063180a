import os  # --- glue: endpoint/key
import asyncio
from sluice.compat.katakate import AsyncClient

async def main():
    k7 = AsyncClient(endpoint=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"])
    sandboxes = await k7.list()
    print(sandboxes)
    await k7.aclose()

asyncio.run(main())
