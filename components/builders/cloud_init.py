"""Guest cloud-init: the NVIDIA driver installer, merged with the user's own user data.

PCI passthrough hands the VM a bare GPU; the driver must be installed in the guest.
The installer uses Ubuntu's signed, prebuilt datacenter ("-server") driver modules
(``ubuntu-drivers install --gpgpu``), then reboots once if the module cannot load
without it (nouveau bound to the GPU at first boot). Where the platform does not restrict an
external VM's ports, the guest firewall (``guest_firewall``) comes first.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.builders.guest_firewall import firewall_cloud_config
from components.models.user_data import LIST_KEYS, is_cloud_config
from components.models.vm import NvidiaDriver
from components.yaml_text import dump_yaml

INSTALLER_PATH = "/usr/local/sbin/hikube-gpu-install-nvidia-driver"
REBOOT_FLAG = "/run/hikube-gpu-reboot-required"
MIME_BOUNDARY = "==hikube-gpu-cloud-init=="


_MIME_TYPES = {
    "#!": "text/x-shellscript",
    "#include": "text/x-include-url",
    "#cloud-boothook": "text/cloud-boothook",
    "#part-handler": "text/part-handler",
    "#cloud-config-archive": "text/cloud-config-archive",
    "#cloud-config": "text/cloud-config",
}


def installer_script(driver: NvidiaDriver) -> str:
    """The shell script that installs the driver (idempotent; Ubuntu guests only)."""
    variant = f"{driver.version}-server" + ("-open" if driver.kernel_modules == "open" else "")
    return f"""#!/bin/sh
# Installed by hikube-gpu: NVIDIA datacenter driver {variant}.
set -eu
if nvidia-smi >/dev/null 2>&1; then
  echo "hikube-gpu: NVIDIA driver already working"; exit 0
fi
. /etc/os-release
if [ "${{ID:-}}" != ubuntu ]; then
  echo "hikube-gpu: no built-in NVIDIA driver installer for ${{ID:-this OS}}; install it yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y ubuntu-drivers-common
ubuntu-drivers install --gpgpu nvidia:{variant}
apt-get install -y nvidia-utils-{driver.version}-server
if ! modprobe nvidia || ! nvidia-smi; then
  touch {REBOOT_FLAG}
fi
"""


def driver_cloud_config(driver: NvidiaDriver) -> dict[str, Any]:
    """The cloud-config that writes and runs the installer."""
    return {
        "write_files": [{"path": INSTALLER_PATH, "permissions": "0755", "content": installer_script(driver)}],
        "runcmd": [[INSTALLER_PATH]],
        "power_state": {
            "mode": "reboot",
            "message": "hikube-gpu: rebooting to load the NVIDIA driver",
            "condition": f"test -f {REBOOT_FLAG}",
        },
    }


def merge_cloud_config(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Extend our lists with theirs; for every other key the user's value wins."""
    merged = dict(ours)
    for key, value in theirs.items():
        if key in LIST_KEYS and key in merged:
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def render_cloud_config(config: dict[str, Any]) -> str:
    return "#cloud-config\n" + dump_yaml(config)


def build_user_data(
    driver: NvidiaDriver,
    user_data: str | None,
    ssh_keys: tuple[str, ...] = (),
    firewall_ports: tuple[int, ...] | None = None,
) -> str:
    """The VM's final user data (the VM's args must have passed validation).

    ``ssh_keys`` become ``ssh_authorized_keys`` (for VMs without an SSH-key Secret of their own);
    ``firewall_ports``, when given, are the only TCP ports the guest firewall admits.
    """
    ours: dict[str, Any] = {}
    if firewall_ports is not None:
        ours = merge_cloud_config(ours, firewall_cloud_config(firewall_ports))
    if driver.install:
        ours = merge_cloud_config(ours, driver_cloud_config(driver))
    if ssh_keys:
        ours["ssh_authorized_keys"] = list(ssh_keys)
    if not ours:
        return user_data or ""
    if not user_data:
        return render_cloud_config(ours)
    if is_cloud_config(user_data):
        theirs = yaml.safe_load(user_data) or {}
        return render_cloud_config(merge_cloud_config(ours, theirs))
    return _multipart([render_cloud_config(ours), user_data])


def _multipart(parts: list[str]) -> str:
    """A MIME multi-part archive with a fixed boundary, so output is byte-stable."""
    lines = [
        f'Content-Type: multipart/mixed; boundary="{MIME_BOUNDARY}"',
        "MIME-Version: 1.0",
        "",
    ]
    for part in parts:
        mime = next((t for prefix, t in _MIME_TYPES.items() if part.startswith(prefix)), "text/plain")
        lines += [f"--{MIME_BOUNDARY}", f'Content-Type: {mime}; charset="utf-8"', "", part.rstrip("\n")]
    lines += [f"--{MIME_BOUNDARY}--", ""]
    return "\n".join(lines)
