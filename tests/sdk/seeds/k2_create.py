from sluice.compat.k2 import Sandbox

# Create a new sandbox
sandbox = Sandbox(
    template="k2sandbox/python:latest",  # Docker image template to use
    api_key=None,  # K2 Sandbox API key (defaults to K2_API_KEY env var)
    cwd="/home/user",  # Initial working directory
    envs={},  # Environment variables
    timeout=300,  # Inactivity timeout in seconds
    metadata={},  # Custom metadata for the sandbox
    request_timeout=None,  # API request timeout in seconds
)
first = sandbox  # --- glue

# Create a sandbox using the class method
sandbox = Sandbox.create(
    template="k2sandbox/python:latest",
    # ... other options same as above
)

# Connect to an existing sandbox by ID
sandbox = Sandbox.connect(
    sandbox_id=sandbox.id,  # --- glue: the document's "your-sandbox-id"
    api_key=None,
    # ... other options same as above
)
print("connected:", sandbox.id)  # --- glue

# Use a sandbox as a context manager
with Sandbox() as sandbox:
    # Sandbox will be automatically closed when the block exits
    pass
print("after with, running:", sandbox.is_running())  # --- glue
first.kill()  # --- glue
Sandbox.kill(sandbox_id=Sandbox.list()[0].id)  # --- glue
print("left:", len(Sandbox.list()))  # --- glue
