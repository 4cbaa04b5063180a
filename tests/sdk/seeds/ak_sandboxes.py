from sluice.compat.agentkernel import AgentKernel, AgentKernelError
client = AgentKernel()  # --- glue

# Create a sandbox
sandbox = client.create_sandbox("my-project", image="python:3.12-alpine")

# Execute commands
result = client.exec_in_sandbox("my-project", ["pip", "install", "numpy"])

# Get info
info = client.get_sandbox("my-project")
print(info.name, info.status)  # --- glue

# List all
sandboxes = client.list_sandboxes()
print([s.name for s in sandboxes])  # --- glue

# Remove
client.remove_sandbox("my-project")

with AgentKernel() as client:
    with client.sandbox("test", image="python:3.12-alpine") as sb:
        sb.run(["pip", "install", "numpy"])
        result = sb.run(["python3", "-c", "import numpy; print(numpy.__version__)"])
        print(result.output)
    # sandbox auto-removed
    print("after:", [s.name for s in client.list_sandboxes()])  # --- glue

with AgentKernel() as client:
    try:
        client.run(["bad-command"])
    except AgentKernelError as e:
        print(e.status)   # HTTP status code
        print(e.message)  # Error message from server
    try:  # --- glue: an error the server does answer with a status
        client.get_sandbox("no-such-sandbox")
    except AgentKernelError as e:
        print(e.status)   # HTTP status code
        print(e.message)  # Error message from server
    print(client.health())  # --- glue
