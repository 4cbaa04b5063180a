import asyncio  # --- glue: the document's block is top-level `async with`
from sluice.compat.agentkernel import AsyncAgentKernel


async def main():  # --- glue
    async with AsyncAgentKernel() as client:
        result = await client.run(["echo", "hello"])
        print(result.output)

asyncio.run(main())  # --- glue
