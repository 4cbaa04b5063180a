from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue

# Execute Python code
execution = sandbox.run_code(
    code="print('Hello, world!')",
    on_stdout=lambda data: print(f"STDOUT: {data['line']}"),  # Callback for stdout lines
    on_stderr=lambda data: print(f"STDERR: {data['line']}"),  # Callback for stderr lines
    on_results=None,  # Callback for rich results (plots, etc.)
    timeout=None,  # Execution timeout in seconds
    cwd=None,  # Working directory for execution
    envs=None,  # Environment variables for execution
)

# Access execution results
print(execution.text)  # The output of the execution
print(execution.stdout)  # Concatenated stdout lines
print(execution.stderr)  # Concatenated stderr lines
print(execution.is_error)  # True if execution resulted in error

execution = sandbox.run_code("import os, sys\nprint(os.getcwd())\nprint('warn', file=sys.stderr)\n1/0", cwd="/tmp",
                             on_stderr=lambda data: print(f"STDERR: {data['line']}"))  # --- glue: cwd, errors
print(execution.stdout, execution.is_error)  # --- glue
sandbox.kill()  # --- glue
