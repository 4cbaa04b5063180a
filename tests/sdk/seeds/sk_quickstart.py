import os  # --- glue: endpoint/key
import asyncio
from sluice.compat.sandkasten import SandboxClient

async def main():
    # Create client
    client = SandboxClient(
        base_url=os.environ["SLUICE_URL"],
        api_key=os.environ["SLUICE_API_KEY"]
    )

    # Create a session
    session = await client.create_session(image="python")

    try:
        # Execute commands
        result = await session.exec("echo 'Hello from sandbox'")
        print(result.output)  # Hello from sandbox

        # Write a file
        await session.write("hello.py", "print('Hello, World!')")

        # Run it
        result = await session.exec("python3 hello.py")
        print(result.output)  # Hello, World!

        # Read files
        result = await session.read("hello.py")
        print(result.content.decode())

    finally:
        # Clean up
        await session.destroy()
        await client.close()

asyncio.run(main())
