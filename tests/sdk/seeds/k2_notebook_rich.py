from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue
# --- glue: the notebook example's rich-result part, without the package installs (no index offline)
notebook = sandbox.notebook

# Execute code that might produce rich output (e.g., plots, HTML, etc.)
execution = notebook.execute(
    code="import matplotlib.pyplot as plt; plt.plot([1, 2, 3]); plt.show()",
    on_stdout=lambda data: print(f"STDOUT: {data['line']}"),
    on_stderr=lambda data: print(f"STDERR: {data['line']}"),
    on_results=lambda data: print(f"Result: {data['mime_type']}"),
    timeout=None,
    cwd=None,
    metadata=None,
)

# Access rich results
for result in execution.results:
    print(f"MIME type: {result.mime_type}")
    if result.mime_type == "image/png":
        # Save the plot to a file
        with open("plot.png", "wb") as f:
            f.write(result.image_data)
    elif result.mime_type == "text/html":
        print(f"HTML content: {result.html}")

execution = notebook.execute("import pandas as pd; pd.DataFrame({'a': [1]})")  # --- glue: an HTML result
for result in execution.results:  # --- glue
    print(f"MIME type: {result.mime_type}")  # --- glue

notebook.execute("x = 1")  # --- glue
# Reset the notebook environment
notebook.reset()
print("after reset:", notebook.execute("x").error.name)  # --- glue
sandbox.kill()  # --- glue
