import os  # --- glue
import sys  # --- glue: `langchain` is a stand-in (tests/sdk/seeds/stubs), see README.md
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs"))  # --- glue
from langchain.tools import tool
from sluice.compat.sandkasten import SandboxClient

client = SandboxClient(base_url=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"])
session = None

@tool
async def sandbox_exec(cmd: str) -> str:
    """Execute a command in the sandbox."""
    result = await session.exec(cmd)
    return result.output

# Use with LangChain agents...
import asyncio  # --- glue: call the tool as an agent would


async def main():  # --- glue
    global session
    session = await client.create_session()
    try:
        print(await sandbox_exec.ainvoke({"cmd": "echo from-langchain-tool"}))
    finally:
        await session.destroy()
        await client.close()

asyncio.run(main())  # --- glue
