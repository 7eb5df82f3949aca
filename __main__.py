"""hikube-gpu: NVIDIA GPU infrastructure on Hikube, as a Pulumi program."""

from stacks.program import main

main()
