"""The hikube-gpu policy pack: `pulumi preview --policy-pack policy` (any Pulumi program)."""

from gpu_policies import POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="hikube-gpu", policies=POLICIES)
