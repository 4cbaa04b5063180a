import time  # --- glue
from sluice.compat.k2 import Sandbox
sandbox = Sandbox()  # --- glue
filesystem = sandbox.filesystem  # --- glue

# Watch a directory for changes
def on_fs_event(event):
    print(f"Event: {event.event_type} on {event.path}")

watch_handle = filesystem.watch_dir(path="/home/user", on_event=on_fs_event)
# ... do some operations ...
filesystem.write("/home/user/watched.txt", "x")  # --- glue
deadline = time.time() + 20  # --- glue: let the event arrive
while time.time() < deadline and not watch_handle.get_new_events():  # --- glue
    time.sleep(0.05)  # --- glue
watch_handle.stop()  # Stop watching
sandbox.kill()  # --- glue
