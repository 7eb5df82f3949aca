"""hikube-gpu: NVIDIA GPU infrastructure on Hikube, as a Pulumi program."""

from stacks.kubeconfig_loader import Environment
from stacks.program import main

main(Environment.current())
