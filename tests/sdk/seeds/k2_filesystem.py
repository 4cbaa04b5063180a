from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue
sandbox.filesystem.write("/home/user/file.txt", "Hello, world!")  # --- glue: files the example reads
sandbox.filesystem.write("/home/user/image.png", b"\x89PNG fake")  # --- glue
with open("local_file.png", "wb") as f:  # --- glue
    f.write(b"\x89PNG local")

# Access the filesystem interface
filesystem = sandbox.filesystem

# List files in a directory
files = filesystem.list(path="/home/user")
for file in files:
    print(f"{file.name} ({file.size} bytes, {'directory' if file.is_dir else 'file'})")

# Read a file
content = filesystem.read(path="/home/user/file.txt")
binary_content = filesystem.read(path="/home/user/image.png", format="bytes")
print(repr(content), binary_content)  # --- glue

# Write to a file
filesystem.write(path="/home/user/file.txt", data="Hello, world!")
with open("local_file.png", "rb") as f:
    filesystem.write(path="/home/user/image.png", data=f)
print(filesystem.read(path="/home/user/image.png", format="bytes"))  # --- glue

# Remove a file or directory
filesystem.remove(path="/home/user/file.txt")
filesystem.write("/home/user/old_name.txt", "renamed")  # --- glue

# Rename/move a file or directory
filesystem.rename(old_path="/home/user/old_name.txt", new_path="/home/user/new_name.txt")

# Create a directory
filesystem.make_dir(path="/home/user/new_directory")

# Check if a file or directory exists
exists = filesystem.exists(path="/home/user/file.txt")
print("exists:", exists, filesystem.exists(path="/home/user/new_name.txt"), filesystem.exists("/home/user/new_directory"))  # --- glue

sandbox.kill()  # --- glue
