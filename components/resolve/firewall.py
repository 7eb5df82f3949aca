"""Which TCP ports a GPU VM's guest firewall admits (``docs/guest-firewall.md``)."""

from __future__ import annotations

from components.models.vm import External


def firewall_ports(external: External | None, port_list_filters: bool) -> tuple[int, ...] | None:
    """The TCP ports the guest firewall admits, or None when the VM gets no firewall.

    Unset ``guestFirewall`` means: on for ``PortList`` where the platform does not filter.
    """
    if external is None:
        return None
    enabled = external.guest_firewall
    if enabled is None:
        enabled = external.method == "PortList" and not port_list_filters
    return external.admitted_ports if enabled else None
