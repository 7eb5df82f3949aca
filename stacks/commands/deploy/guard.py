"""``hikube-gpu up`` checks each stack's cluster before Pulumi starts (``stacks.program.target``).

The program makes the same check, but ``pulumi up --refresh`` refreshes the state before the
program runs: with another cluster's kubeconfig the refresh would read that cluster and write
what it found (objects missing) into the state. Checked here first, a stack whose credential
reaches another API server fails without a call to Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.models.vm import ENCRYPTED_PLACEHOLDER
from stacks.commands.deploy.orchestrate import Engine, Operation, Outcome
from stacks.commands.deploy.stack_log import StackLog
from stacks.program.kubeconfig_loader import Environment
from stacks.program.target import WrongCluster, check


@dataclass(frozen=True)
class TargetGuard:
    """An ``Engine`` that runs ``engine`` only for stacks whose credential reaches their cluster."""

    engine: Engine
    project_dir: Path
    environment: Environment

    def run(self, stack: str, operation: Operation, log: StackLog) -> Outcome:
        from stacks.commands.doctor.stack import read_stack
        from stacks.loading.problems import ConfigError
        from stacks.loading.stack_file import StackFileError

        try:
            given = read_stack(self.project_dir, stack, None)
        except (StackFileError, ConfigError):
            given = None  # the program reports it, with every problem
        if given is not None and given.kubeconfig != ENCRYPTED_PLACEHOLDER:
            try:
                check(given.stack, stack, self.environment, given.kubeconfig)
            except WrongCluster as refusal:
                log.err(f"error: {refusal}")  # the stack's reason, in full
                raise
        # a kubeconfig stored as a Pulumi secret is decrypted by the CLI: the program checks it
        return self.engine.run(stack, operation, log)
