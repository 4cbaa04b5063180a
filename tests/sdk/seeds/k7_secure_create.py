import os  # --- glue: endpoint/key
from sluice.compat.katakate import Client

k7 = Client(endpoint=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"])  # --- glue

sb = k7.create({
    "name": "secure-sb",
    "image": "alpine:latest",
    "namespace": "default",

    # Non-root execution
    "pod_non_root": True,          # Pod UID/GID/FSGroup 65532
    "container_non_root": True,    # Container UID 65532, no privilege escalation

    # Capabilities: drop ALL by default, add minimal ones back
    "cap_add": ["CHOWN"],
    "cap_drop": ["NET_RAW"],

    # Network egress control
    #   - Omit key to keep egress open
    #   - [] blocks all egress (DNS blocked)
    #   - [CIDRs] allows only those CIDRs (DNS still blocked)
    "egress_whitelist": [
        "10.0.0.5/32",   # private egress proxy
        "203.0.113.0/24"
    ],

    # Resource limits/requests (same values used for both)
    "limits": {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "2Gi"},

    # Optional setup commands run before Ready (executed with open egress)
    "before_script": "apk add --no-cache curl git"
})
print("created", sb["name"])  # --- glue
