import os  # --- glue
import asyncio  # --- glue
import httpx  # --- glue: the error-handling example uses httpx without importing it
from sluice.compat.sandkasten import SandboxClient, SandkastenStreamError


async def main():  # --- glue: the reference's fragments, on one session
    client = SandboxClient(base_url=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"])
    session = await client.create_session(image="python", ttl_seconds=600)

    await session.exec("cd /tmp")
    result = await session.exec("pwd")
    print(result.cwd)  # /tmp

    await session.write("script.py", "print('hello')")
    await session.write("data.bin", b"\x00\x01\x02")

    await session.write("output.txt", "the output\n")  # --- glue: a file to read
    result = await session.read("output.txt")
    print(result.content.decode())
    if result.truncated:
        print("(output was truncated)")
    result = await session.read("output.txt", max_bytes=3)  # --- glue: max_bytes
    print("truncated:", result.truncated, result.content)

    with open("upload-me.txt", "w") as f:  # --- glue: a local file to upload
        f.write("uploaded\n")
    print("uploaded:", await session.upload("upload-me.txt", dest_path="/tmp/up"))
    print("stats memory > 0:", (await session.stats()).memory_bytes > 0)
    print("info status:", (await session.info()).status)
    print("listed:", [s.id for s in await client.list_sessions()] == [session.id])
    again = await client.get_session(session.id)
    print("get_session:", again.id == session.id)

    try:
        result = await session.exec("invalid-command")
    except httpx.HTTPStatusError as e:
        print(f"HTTP {e.response.status_code}: {e.response.text}")
    print("invalid-command exit_code:", result.exit_code)

    try:
        async for chunk in session.exec_stream("fail-cmd"):
            print("chunk:", chunk)
    except SandkastenStreamError as e:
        print(f"Stream error: {e}")

    await session.destroy()
    try:  # --- glue: the destroyed session is gone
        await client.get_session(session.id)
    except httpx.HTTPStatusError as e:
        print(f"HTTP {e.response.status_code}")
    await client.close()

asyncio.run(main())
