import asyncio  # --- glue
from sluice.compat.agentkernel import AsyncAgentKernel


async def main():  # --- glue
    client = AsyncAgentKernel()  # --- glue
    async for event in client.run_stream(["python3", "-c", "print('async streamed')"]):  # --- glue: script
        if event.type == "output":
            print(event.data["data"], end="")
    await client.close()  # --- glue

asyncio.run(main())  # --- glue
