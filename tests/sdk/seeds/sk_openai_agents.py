import os  # --- glue
import sys  # --- glue: `agents` is a stand-in (tests/sdk/seeds/stubs), see README.md
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs"))  # --- glue
from agents import Agent, Runner, function_tool
from sluice.compat.sandkasten import SandboxClient

client = SandboxClient(base_url=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"])
session = None

@function_tool
async def exec(cmd: str, timeout_ms: int = 30000) -> str:
    """Execute a shell command in the sandbox."""
    result = await session.exec(cmd, timeout_ms=timeout_ms)
    return f"exit_code={result.exit_code}\ncwd={result.cwd}\n---\n{result.output}"

@function_tool
async def write_file(path: str, content: str) -> str:
    """Write content to a file."""
    await session.write(path, content)
    return f"wrote {path}"

@function_tool
async def read_file(path: str) -> str:
    """Read a file."""
    result = await session.read(path)
    return result.content.decode()

agent = Agent(
    name="coding-assistant",
    instructions="You have a Linux sandbox with exec, write_file, read_file tools.",
    tools=[exec, write_file, read_file],
)

async def main():
    global session
    session = await client.create_session(image="python")
    try:
        result = await Runner.run(
            agent,
            "Write a Python script that prints fibonacci numbers"
        )
        print(result.final_output)
    finally:
        await session.destroy()
        await client.close()

import asyncio  # --- glue: the document defines main() without running it
asyncio.run(main())  # --- glue
