import time  # --- glue
from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue

# Access the terminal interface
terminal = sandbox.terminal

# Start a new PTY session
def on_terminal_data(data):
    print(f"Terminal output: {data.decode('utf-8', errors='ignore')}")

pty = terminal.start(
    on_data=on_terminal_data,  # Callback for terminal output
    size=(24, 80),  # Terminal dimensions (rows, cols)
    cmd=None,  # Command to run (defaults to bash or sh)
    cwd=None,  # Working directory
    envs=None,  # Environment variables
)

# Send data to the terminal
terminal.send_data(pid=pty.pid, data=b"ls -la\n")

# Resize the terminal
terminal.resize(pid=pty.pid, size=(30, 100))
deadline = time.time() + 20  # --- glue: the prompt (input typed before it may be dropped by bash)
while time.time() < deadline and b"# " not in pty.output:  # --- glue
    time.sleep(0.05)  # --- glue
terminal.send_data(pid=pty.pid, data=b"stty size; echo END-$((1+1))\n")  # --- glue: see the resize
deadline = time.time() + 20  # --- glue
while time.time() < deadline and b"END-2" not in pty.output:  # --- glue
    time.sleep(0.05)  # --- glue

# Kill the terminal session
terminal.kill(pid=pty.pid)

# PTY handle methods
pty.send_data(b"echo 'Hello'\n")
pty.resize(24, 80)
pty.kill()
sandbox.kill()  # --- glue
