from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue
other = Sandbox()  # --- glue: the document's "your-sandbox-id"

# Check if the sandbox is running
is_running = sandbox.is_running()
print("is_running:", is_running)  # --- glue

# Set the inactivity timeout
sandbox.set_timeout(timeout=600)  # 10 minutes

# Set timeout for a sandbox by ID (class method)
Sandbox.set_timeout(sandbox_id=other.id, timeout=600)

# List all sandboxes (class method)
sandboxes = Sandbox.list()
print("listed:", len(sandboxes), sorted(s.timeout for s in sandboxes))  # --- glue

# Close the sandbox
sandbox.close()

# Kill the sandbox forcefully
sandbox.kill()

# Kill a sandbox by ID (class method)
Sandbox.kill(sandbox_id=other.id)
print("after kill:", sandbox.is_running(), len(Sandbox.list()))  # --- glue
