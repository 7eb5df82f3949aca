"""hikube-gpu: NVIDIA GPU infrastructure on Hikube, as a Pulumi program."""

from stacks.program.kubeconfig_loader import Environment
from stacks.program.main import main

main(Environment.current())
