from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue
from _seedenv import serve_index; serve_index(sandbox)  # --- glue: a package index (no network here)

# Access the notebook interface
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

# Install a Python package
notebook.install_package("pandas")
notebook.install_package("numpy", version="1.20.0")

# Get a list of installed packages
packages = notebook.get_installed_packages()
for pkg in packages:
    print(f"{pkg['name']} {pkg['version']}")

# Reset the notebook environment
notebook.reset()
sandbox.kill()  # --- glue
