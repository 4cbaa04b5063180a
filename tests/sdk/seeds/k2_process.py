from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue

# Access the process interface
process = sandbox.process

# Run a command and wait for completion
result = process.start(
    cmd="ls -la",
    on_stdout=lambda data: print(f"STDOUT: {data['line']}"),  # Callback for stdout lines
    on_stderr=lambda data: print(f"STDERR: {data['line']}"),  # Callback for stderr lines
    timeout=60,  # Execution timeout in seconds
    cwd=None,  # Working directory for the process
    envs=None,  # Environment variables for the process
    background=False  # Whether to run in background
)
print(f"Exit code: {result.exit_code}")
print(f"Output: {result.stdout}")
print(f"Error: {result.stderr}")

# Run a command in the background
handle = process.start(
    cmd="sleep 10 && echo 'Done'",
    background=True
)
# Do something else while the process runs
print(f"Process is running with PID: {handle.pid}")
# List running processes  (--- glue: moved up from below, while the process runs)
processes = process.list()
for proc in processes:
    print(f"PID: {proc.pid}, Command: {proc.cmd}")
# Wait for the process to complete
result = handle.wait()
print(f"Waited: {result.exit_code} {result.stdout!r}")  # --- glue
# Send data to the process stdin
handle.send_stdin("Some input data\n")
# Kill the process
handle.kill()

# Kill a process by PID
print(process.kill(pid=12345))
sandbox.kill()  # --- glue
