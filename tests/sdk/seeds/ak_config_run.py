import os  # --- glue: endpoint/key
from sluice.compat.agentkernel import AgentKernel

client = AgentKernel(
    base_url=os.environ["SLUICE_URL"],  # default
    api_key=os.environ["SLUICE_API_KEY"],                  # optional
    timeout=30.0,                      # default: 30s
)

with AgentKernel() as client:
    result = client.run(["python3", "-c", "print(1 + 1)"])
    print(result.output)  # "2\n"

result = client.run(
    ["npm", "test"],
    image="node:22-alpine",
    profile="restrictive",
    fast=False,
)
print("npm exit_code != 0:", result.exit_code != 0)  # --- glue

with open("script.py", "w"):  # --- glue: nothing; script.py exists only on the client
    pass
for event in client.run_stream(["python3", "script.py"]):
    if event.type == "output":
        print(event.data["data"], end="")
    elif event.type == "done":
        print(f"Exit code: {event.data['exit_code']}")
    elif event.type == "error":
        print(f"Error: {event.data['message']}")

for event in client.run_stream(["python3", "-c", "print('streamed')"]):  # --- glue: a script that exists
    if event.type == "output":
        print(event.data["data"], end="")
    elif event.type == "done":
        print(f"Exit code: {event.data['exit_code']}")
