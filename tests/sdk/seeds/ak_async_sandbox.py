import asyncio  # --- glue
from sluice.compat.agentkernel import AsyncAgentKernel


async def main():  # --- glue
    async with AsyncAgentKernel() as client:
        async with client.sandbox("test", image="python:3.12-alpine") as sb:
            await sb.run(["pip", "install", "numpy"])
            result = await sb.run(["python3", "-c", "import numpy; print(numpy.__version__)"])
            print(result.output)

asyncio.run(main())  # --- glue
