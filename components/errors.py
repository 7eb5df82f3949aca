"""The error a component raises for invalid args."""

from collections.abc import Sequence

import pulumi
from pulumi.errors import InputPropertyErrorDetails


class InvalidArgs(pulumi.InputPropertiesError):
    """``pulumi.InputPropertiesError`` with one ``{property_path, reason}`` per problem.

    Through the component provider host, the Pulumi engine prints ``message`` and then, for
    each of ``errors``, ``- property <path> with value '<the input's value>' has a problem:
    <reason>`` (``errorToMessage`` and ``GetResourceInvalidError``: pkg/resource/deploy/
    source_eval.go and sdk/go/common/diag/errors.go, pulumi/pulumi v3.259.0). It prints a secret
    value there as it is, so a problem of an input that is a secret (or may be one: an Output
    where a plain value belongs) is ``withheld``: it is written into ``message`` instead, without
    the value. ``str()`` lists every problem, for Python programs::

        GpuVirtualMachine 'x' has invalid args:
          instanceType: 'o1.xlarge' cannot host GPUs: ...
    """

    def __init__(
        self,
        summary: str,
        errors: Sequence[InputPropertyErrorDetails],
        withheld: Sequence[InputPropertyErrorDetails] = (),
    ) -> None:
        lines = [f"  {e['property_path'] or '(args)'}: {e['reason']}" for e in withheld]
        message = "\n".join([f"{summary}:", *lines]) if lines else summary
        super().__init__(message, list(errors))
        self.summary = summary
        self.withheld = list(withheld)

    @property
    def problems(self) -> list[InputPropertyErrorDetails]:
        """Every problem, the withheld ones too, by path."""
        return sorted([*(self.errors or []), *self.withheld], key=lambda e: (e["property_path"], e["reason"]))

    def __str__(self) -> str:
        lines = [f"  {e['property_path'] or '(args)'}: {e['reason']}" for e in self.problems]
        return "\n".join([f"{self.summary}:", *lines])

    def withholding(self, secret: Sequence[str]) -> "InvalidArgs":
        """This error with the problems of the top-level inputs in ``secret`` withheld."""

        def hidden(problem: InputPropertyErrorDetails) -> bool:
            top = problem["property_path"].split(".", 1)[0].split("[", 1)[0]
            return top in secret

        problems = self.problems
        return InvalidArgs(
            self.summary, [p for p in problems if not hidden(p)], [p for p in problems if hidden(p)]
        )
