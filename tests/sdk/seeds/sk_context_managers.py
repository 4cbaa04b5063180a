import os  # --- glue
import asyncio  # --- glue
from sluice.compat.sandkasten import SandboxClient

async def main():  # --- glue: the document's block is top-level `async with`
    async with SandboxClient(base_url=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"]) as client:
        async with await client.create_session() as session:
            result = await session.exec("pip install requests")
            # Session automatically destroyed on exit
        print("exit_code", result.exit_code)  # --- glue
        print("sessions", await client.list_sessions())  # --- glue

asyncio.run(main())  # --- glue
