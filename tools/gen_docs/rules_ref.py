"""The rules reference page, read from the rule modules themselves.

Every ``Problem(...)`` the rule modules can yield is one rule. Its id is the module's stack
part and the config path it reports on (``tenant:vms.<name>.instanceType``, ``#2`` for a second
rule on the same path); the page shows the condition it is yielded under (the innermost
``if``), the message (``{…}`` for the parts filled in), whether it is an error or a warning,
and the upstream source the rule follows: the ``# upstream: …`` comment lines right above the
``yield`` (or ``Problem(``) that reports it. A second table lists the names the platform
derives from config names (``components.catalog.derived_names``), each with its limit and source.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass
from types import ModuleType

from tools.gen_docs import GENERATED_NOTE

_WORKLOAD = "clusters.<name>.workloads.<workload>"
_OP = "gpuOperator"
MODULES: tuple[tuple[str, str, str, str], ...] = (
    # (id prefix, module, title, config path the module's relative paths are under)
    (
        "config",
        "stacks.validation.config",
        "Structural checks of the whole stack (`stacks/validation/config.py`)",
        "",
    ),
    ("secrets", "stacks.validation.secrets", "Secret values (`stacks/validation/secrets.py`)", ""),
    (
        "tenant",
        "stacks.validation.rules",
        "Tenant stacks: platform and quota (`stacks/validation/rules.py`)",
        "",
    ),
    ("vm", "components.checks.vm", "Tenant VMs (`components/checks/vm.py`)", "vms.<name>"),
    ("cluster", "stacks.validation.cluster_rules", "Clusters (`stacks/validation/cluster_rules.py`)", ""),
    (
        "cluster",
        "components.checks.cluster",
        "Clusters and workloads (`components/checks/cluster.py`)",
        "clusters.<name>",
    ),
    (
        "node-group",
        "components.checks.node_group",
        "Node groups (`components/checks/node_group.py`)",
        "clusters.<name>.nodeGroups.<group>",
    ),
    (
        "platform",
        "stacks.validation.platform_rules",
        "Platform stacks (`stacks/validation/platform_rules.py`)",
        "",
    ),
    ("raw-vm", "components.checks.raw_vm", "Raw KubeVirt VMs (`components/checks/raw_vm.py`)", "vms.<name>"),
    ("workload", "components.checks.workload", "Workloads (`components/checks/workload.py`)", _WORKLOAD),
    ("operator", "components.checks.gpu_operator", "GPU Operator (`components/checks/gpu_operator.py`)", _OP),
    ("nodes", "components.checks.gpu_nodes", "GPU node modes (`components/checks/gpu_nodes.py`)", ""),
    ("kubevirt", "components.checks.kubevirt", "KubeVirt (`components/checks/kubevirt.py`)", "kubevirt"),
    (
        "identity",
        "stacks.validation.identities",
        "One identity per object (`stacks/validation/identities.py`)",
        "",
    ),
    ("names", "components.checks.names", "Names the platform derives (`components/checks/names.py`)", ""),
    ("ports", "components.checks.ports", "Port lists (`components/checks/ports.py`)", ""),
    (
        "import",
        "stacks.validation.adoption",
        "Adopting existing objects (`stacks/validation/adoption.py`)",
        "",
    ),
    (
        "defaults",
        "stacks.loading.customer_defaults",
        "Customer defaults (`stacks/loading/customer_defaults.py`)",
        "",
    ),
)
"""Where rules are defined. ``components/checks`` holds the checks a component runs on its own
args (paths relative to the component); ``stacks/*`` the checks of the whole stack."""
PROBLEM_TYPES = {"Problem", "Issue"}
MESSAGE_ONLY = {"DefaultsError": "defaults"}
"""Errors raised with a message only, and the config key they are about."""
PATH_FUNCTIONS = {"config_path", "prop"}
UPSTREAM = "# upstream:"


@dataclass(frozen=True)
class Rule:
    id: str
    function: str
    path: str
    condition: str
    message: str
    severity: str
    upstream: tuple[str, ...] = ()


def _part(node: ast.expr) -> str:
    """One piece of an f-string: its text, or ``{expr}``."""
    if isinstance(node, ast.FormattedValue):
        return "{" + ast.unparse(node.value) + "}"
    return str(node.value) if isinstance(node, ast.Constant) else ""


def _text(node: ast.expr) -> str:
    """A message expression as text, with ``{expr}`` for what is filled in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_part(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left) + _text(node.right)
    return "{" + ast.unparse(node) + "}"


def _path(node: ast.expr, module: ModuleType | None = None) -> str:
    """A ``config_path(...)`` call as ``vms.<name>.gpus``; anything else as ``<expr>``. A
    module-level text constant (``IMPORT_KEY``) is shown as its value."""
    if isinstance(node, ast.Call) and ast.unparse(node.func) in PATH_FUNCTIONS:
        parts = []
        for arg in node.args:
            constant = getattr(module, arg.id, None) if isinstance(arg, ast.Name) else None
            if isinstance(arg, ast.Constant):
                parts.append(str(arg.value))
            elif isinstance(constant, str) and arg.id.isupper():  # type: ignore[attr-defined]
                parts.append(constant)
            elif isinstance(arg, ast.Starred):
                parts.append(f"<{ast.unparse(arg.value)}>")
            else:
                parts.append(f"<{ast.unparse(arg)}>")
        return ".".join(parts)
    return f"<{ast.unparse(node)}>"


def _severity(call: ast.Call) -> str:
    values = call.args[2:3] + [k.value for k in call.keywords if k.arg == "severity"]
    if values and isinstance(values[0], ast.Constant):
        return str(values[0].value)
    return "error" if not values else f"{{{ast.unparse(values[0])}}}"


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.function = ""
        self.conditions: list[str] = []
        self.found: list[tuple[str, str, ast.Call]] = []
        self.statement = 0
        """First line of the statement being visited (where ``# upstream:`` comments sit above)."""
        self.lines: dict[int, int] = {}
        """Call node id → first line of its statement."""

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt):
            outer, self.statement = self.statement, node.lineno
            super().generic_visit(node)
            self.statement = outer
        else:
            super().generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, saved = self.function, self.conditions
        self.function, self.conditions = node.name, []
        self.generic_visit(node)
        self.function, self.conditions = outer, saved

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self.conditions.append(ast.unparse(node.test))
        for child in node.body:
            self.visit(child)
        self.conditions[-1] = f"not ({self.conditions[-1]})"
        for child in node.orelse:
            self.visit(child)
        self.conditions.pop()

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if (name in PROBLEM_TYPES and len(node.args) >= 2) or (name in MESSAGE_ONLY and node.args):
            self.found.append((self.function, self.conditions[-1] if self.conditions else "", node))
            self.lines[id(node)] = self.statement or node.lineno
        self.generic_visit(node)


def upstream_above(lines: list[str], line: int) -> tuple[str, ...]:
    """The ``# upstream: …`` comments in the block of comment lines right above ``line`` (1-based)."""
    found: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        text = lines[index].strip()
        if text.startswith(UPSTREAM):
            found.append(text.removeprefix(UPSTREAM).strip())
        index -= 1
    return tuple(reversed(found))


def rules_of(prefix: str, module: ModuleType, under: str) -> list[Rule]:
    source = inspect.getsource(module)
    lines = source.splitlines()
    finder = _Finder()
    finder.visit(ast.parse(source))
    seen: dict[str, int] = {}
    found = []
    for function, condition, call in finder.found:
        name = ast.unparse(call.func)
        if name in MESSAGE_ONLY:
            path, message, severity = MESSAGE_ONLY[name], _text(call.args[0]), "error"
        else:
            path, message, severity = _path(call.args[0], module), _text(call.args[1]), _severity(call)
        path = ".".join(p for p in (under, path) if p)
        base = f"{prefix}:{path}"
        seen[base] = seen.get(base, 0) + 1
        rule_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        upstream = upstream_above(lines, finder.lines[id(call)])
        found.append(Rule(rule_id, function, path, condition, message, severity, upstream))
    return found


def all_rules() -> list[tuple[str, str, list[Rule]]]:
    """Rules per module, in ``MODULES`` order (a module that does not exist is skipped)."""
    groups = []
    for prefix, name, title, under in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        found = rules_of(prefix, module, under)
        # A module that re-yields another's issues (``yield Problem(issue.under(…), issue.message …)``)
        # defines no rule of its own there.
        found = [r for r in found if not r.message.startswith("{issue.")]
        groups.append((name, title, found))
    return groups


def _code(text: str) -> str:
    """Text for a code span in a table cell: only ``|`` needs escaping there."""
    return text.replace("|", "\\|").replace("\n", " ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace("*", "\\*")


def page() -> str:
    groups = all_rules()
    total = sum(len(r) for _, _, r in groups)
    lines = [
        GENERATED_NOTE,
        "# Rules",
        "",
        f"Every problem the validation can report: {total} rules, read from the rule modules by",
        "`tools/gen_docs/rules_ref.py` (each `Problem(...)` they can yield). Validation runs in two",
        "phases: the structure (types, unknown keys, allowed values: the models, see",
        "[Configuration](config.md)), then, if that passes, these rules over the whole stack. All",
        "errors are reported at once, each with its config path; an error stops the stack (exit",
        "code 2, nothing registered), a warning is printed and does not. Examples of the messages:",
        "[Validation examples](../concepts/validation.md).",
        "",
        "The id is the module's part and the config path the rule reports on; `<…>` stands for a",
        "name from the config, `{…}` in a message for a value filled in. *When* is the condition",
        "in the code under which the problem is reported (empty: always, within its loop).",
        "*Upstream* is the source the rule follows (repository, tag, path and line), where it",
        "follows one.",
        "",
    ]
    for name, title, found in groups:
        if not found:
            continue
        lines += [f"## {title} {{#{name.replace('.', '-')}}}", ""]
        lines += ["| Id | Severity | When | Message | Upstream |", "|---|---|---|---|---|"]
        for rule in found:
            when = f"`{_code(rule.condition)}`" if rule.condition else ""
            upstream = "<br>".join(_cell(text) for text in rule.upstream)
            lines.append(
                f"| `{_code(rule.id)}` | {rule.severity} | {when} | {_cell(rule.message)} | {upstream} |"
            )
        lines.append("")
    lines += derived_names_section()
    return "\n".join(lines)


def derived_names_section() -> list[str]:
    """The names the platform derives, per profile (the data ``components.checks.names`` checks)."""
    from components.catalog.derived_names import DERIVED_NAMES

    lines = [
        "## Names the platform derives {#derived-names}",
        "",
        "The rules of `components/checks/names.py` compute these strings from the config's names",
        "and refuse a name whose string would not fit (a warning when only an add-on that is off",
        "would make it). `{cluster}`, `{group}`, `{vm}` are the config names, `{disk}` a VMDisk",
        "name (`<vm>-system`, `<vm>-<disk>`), `{role}` a GPU group's role (`gpu-<group>`).",
        "",
    ]
    for profile, entries in DERIVED_NAMES.items():
        lines += [f"### Profile `{profile}`", ""]
        lines += [
            "| Derived string | What it is | At most | Because | Add-on | Upstream |",
            "|---|---|---|---|---|---|",
        ]
        for entry in entries:
            because = f"{entry.limit.holds} ({entry.limit.source})"
            addon = f"`{entry.addon}`" if entry.addon else ""
            lines.append(
                f"| `{_code(entry.pattern)}` | {_cell(entry.what)} | {entry.limit.max} | {_cell(because)} "
                f"| {addon} | {_cell(entry.source)} |"
            )
        lines.append("")
    return lines
