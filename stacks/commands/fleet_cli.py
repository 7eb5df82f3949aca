"""The fleet commands of ``hikube-gpu``: ``config`` (the merged config of
a stack and where each value comes from) and ``changed`` (the stacks a change touches), ``up``
(deploy through Pulumi's Automation API), ``operator`` (Pulumi Kubernetes Operator objects) and
``cache`` (the render cache of ``diff`` and ``changed``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks.commands.deploy.orchestrate import Engine, Operation, StackResult
    from stacks.commands.operator.manifests import StackContexts

from stacks.commands.project import PROJECT_DIR_HELP

EXIT_FAILED = 1
EXIT_INVALID = 2

Command = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> int:
    from stacks.loading import customer_defaults
    from stacks.loading.stack_file import (
        StackFileError,
        _project,
        _project_defaults,
        _stack_path,
        _stack_values,
    )

    try:
        project_file, project = _project(args.project_dir)
        path = _stack_path(args.project_dir, project_file, args.stack)
        rows = customer_defaults.origins(
            args.project_dir,
            project,
            _stack_values(path, project),
            _project_defaults(project_file, project),
        )
    except (StackFileError, customer_defaults.DefaultsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    for place, value, where in rows:
        shown = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
        print(f"{place} = {shown}" + (f"    # {where}" if args.show_origin else ""))
    return 0


def _changed(args: argparse.Namespace) -> int:
    from stacks.commands.diff.changed import find_changed, matrix
    from stacks.commands.diff.compare import ProgressPrinter
    from stacks.commands.diff.render_cache import open_cache
    from stacks.commands.diff.revision import RevisionError
    from stacks.commands.interrupt import Interrupted, interruptible
    from stacks.loading.stack_list import StackNameError

    try:
        with interruptible():
            found = find_changed(
                args.project_dir,
                args.base,
                workers=args.workers,
                progress=ProgressPrinter(),
                cache=open_cache(),
            )
    except Interrupted as stop:
        print(f"error: stopped by {stop}", file=sys.stderr)
        return stop.exit_code
    except (RevisionError, StackNameError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    for stack, reason in found.errors.items():
        print(f"error: stack {stack!r}: {reason}", file=sys.stderr)
    why = "the code changed: every stack compared" if found.code_changed else "stack or defaults files"
    print(f"{len(found.stacks)} stack(s) changed; {found.candidates} compared ({why})", file=sys.stderr)
    if args.format == "matrix":
        print(json.dumps(matrix(found.stacks, args.batch_size, args.max_jobs)))
    elif args.format == "json":
        print(json.dumps(found.stacks))
    else:
        print("\n".join(found.stacks))
    return 0


def _selected(args: argparse.Namespace) -> list[str]:
    """The stacks ``up`` works on; ``ValueError`` with the reason when the selection is invalid."""
    from stacks.commands.diff.changed import find_changed
    from stacks.commands.diff.render_cache import open_cache
    from stacks.loading.stack_list import discover, examples

    stacks = discover(args.project_dir)
    if args.all:
        return stacks
    if args.changed:
        if not args.base:
            raise ValueError("--changed needs --base REF")
        return find_changed(args.project_dir, args.base, workers=args.workers, cache=open_cache()).stacks
    if not args.stack:
        raise ValueError("choose the stacks: --stack NAME (repeatable), --all, or --changed --base REF")
    for name in args.stack:
        if name in examples(args.project_dir):
            raise ValueError(
                f"{name!r} is an example ({name} in examples/stacks/): examples are never deployed"
            )
        if name not in stacks:
            raise ValueError(f"no stack {name!r} in {args.project_dir}")
    return list(args.stack)


def _up(args: argparse.Namespace, engine: Any = None) -> int:
    """``up``: exit 0 when every stack succeeded, 1 when one failed, 2 for an invalid selection."""
    from stacks.commands.deploy.automation import AutomationEngine
    from stacks.commands.deploy.guard import TargetGuard
    from stacks.commands.deploy.orchestrate import failure_text, markdown, table
    from stacks.commands.diff.revision import RevisionError
    from stacks.loading.stack_list import StackNameError
    from stacks.program.kubeconfig_loader import Environment

    try:
        stacks = _selected(args)
    except (ValueError, RevisionError, StackNameError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    operation: Operation = "preview" if args.preview else "up"
    if args.read_only and operation == "up":
        print(
            "error: --read-only is for previews (--preview): `up` needs a credential that writes",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if not stacks:
        print(f"no stack to {operation}", file=sys.stderr)
        return 0
    engine = engine or AutomationEngine(
        args.project_dir, args.refresh, args.expect_no_changes, [str(p) for p in args.policy_pack]
    )
    engine = TargetGuard(engine, args.project_dir, Environment.current())  # the stack's own cluster only
    print(f"pulumi {operation}: {len(stacks)} stack(s), {args.parallel} at a time", file=sys.stderr)
    results = _run_operation(args, stacks, engine, operation)
    if args.log_dir is not None:
        args.log_dir.mkdir(parents=True, exist_ok=True)
        for result in results:
            text = "".join(f"{line.rstrip()}\n" for line in result.log)
            (args.log_dir / f"{result.stack}.log").write_text(text, encoding="utf-8")
    for result in results:
        if result.failed:
            print(failure_text(result, operation), file=sys.stderr)
            if args.log_dir is not None:
                print(f"  full output: {args.log_dir / (result.stack + '.log')}", file=sys.stderr)
    print(table(results))
    report = markdown(results, operation)
    if args.read_only:  # a preview (checked above): say what its server never validated
        from stacks.program.read_only import report_note

        note = report_note({r.stack: r.changes for r in results if not r.failed})
        report += note
        print(note.strip().replace("**", ""), file=sys.stderr)
    if args.report is not None:
        args.report.write_text(report, encoding="utf-8")
    if args.results is not None:
        args.results.write_text(json.dumps({r.stack: r.result for r in results}, indent=1) + "\n")
    return EXIT_FAILED if any(r.failed for r in results) else 0


def _run_operation(
    args: argparse.Namespace, stacks: list[str], engine: Engine, operation: Operation
) -> list[StackResult]:
    """The stacks' results: ``up`` with each GPU cluster's admin context for the run (never a
    preview); a ``--read-only`` preview with ``read_only.ENV`` set, so each program says so."""
    from stacks.commands.deploy.orchestrate import run_stacks

    def run(chosen: list[str]) -> list[StackResult]:
        return run_stacks(chosen, engine, operation, parallel=args.parallel, progress=sys.stderr)

    if operation == "up":
        from stacks.commands.deploy.guest_access import up_with_guest_contexts

        return up_with_guest_contexts(args.project_dir, stacks, run, sys.stderr)
    if args.read_only:
        from stacks.program.read_only import announced

        with announced():
            return run(stacks)
    return run(stacks)


def _add_up(commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path | None) -> None:
    up = commands.add_parser(
        "up",
        help="deploy stacks with pulumi up (Automation API; needs the Pulumi CLI and a backend)",
        description="Run `pulumi up` (or, with --preview, `pulumi preview`) on the chosen stacks through\n"
        "Pulumi's Automation API, --parallel at a time, each stack once: a progress line per stack,\n"
        "then a table (stack, result, changes, duration). Examples are never deployed.",
        epilog="exit codes: 0 every stack succeeded; 1 a stack failed; 2 invalid selection",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("--stack", "-s", action="append", help="a stack (repeatable)")
    up.add_argument("--all", action="store_true", help="every stack")
    up.add_argument("--changed", action="store_true", help="the stacks `changed --base` lists")
    up.add_argument("--base", help="git revision for --changed (e.g. origin/main)")
    up.add_argument("--parallel", type=int, default=4, help="stacks at a time (default: 4)")
    up.add_argument("--preview", action="store_true", help="pulumi preview instead of up")
    up.add_argument("--refresh", action="store_true", help="refresh the state first")
    up.add_argument("--expect-no-changes", action="store_true", help="fail a stack that would change (drift)")
    up.add_argument(
        "--read-only",
        action="store_true",
        help="the credential cannot write (previews): say that the server validated no change",
    )
    up.add_argument("--policy-pack", type=Path, action="append", default=[], help="policy pack folder")
    up.add_argument("--report", type=Path, help="write the table as Markdown to this file")
    up.add_argument("--log-dir", type=Path, help="write each stack's Pulumi output to DIR/<stack>.log")
    up.add_argument("--results", type=Path, help="write {stack: result} as JSON to this file")
    up.add_argument("--workers", type=int, help="render processes for --changed")
    up.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)


def _deploy_plan(args: argparse.Namespace) -> int:
    """``deploy-plan``: the stacks a deploy run must deploy (docs/fleet.md); exit 2 when the
    marker or the comparison cannot be read."""
    from stacks.commands.deploy import marker
    from stacks.commands.diff.changed import find_changed, matrix
    from stacks.commands.diff.revision import RevisionError
    from stacks.loading.stack_list import StackNameError, discover

    try:
        stacks = discover(args.project_dir)
        recorded = None if args.all else marker.read_marker(args.project_dir, args.marker)
        found = marker.plan(
            recorded, stacks, lambda base: find_changed(args.project_dir, base, workers=args.workers).stacks
        )
    except (marker.MarkerError, RevisionError, StackNameError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if found.base is None:
        why = "by hand: every stack" if args.all else f"no tag {args.marker} yet: every stack"
    else:
        why = f"changed since {found.base[:12]} (tag {args.marker})"
        if found.retried:
            why += f", {len(found.retried)} not deployed last time: {', '.join(found.retried)}"
    print(f"{len(found.stacks)} stack(s) to deploy: {why}", file=sys.stderr)
    if args.plan_out is not None:
        document = {"stacks": found.stacks, "base": found.base, "retried": found.retried}
        args.plan_out.write_text(json.dumps(document) + "\n", encoding="utf-8")  # one line: a job output
    print(json.dumps(matrix(found.stacks, args.batch_size, args.max_jobs)))
    return 0


def _deploy_record(args: argparse.Namespace) -> int:
    """``deploy-record``: move the marker tag to the deployed revision with the stacks that did
    not succeed; exit 2 for unreadable input."""
    from stacks.commands.deploy import marker

    try:
        planned = json.loads(args.plan.read_text(encoding="utf-8"))["stacks"]
        results = marker.read_results(args.results)
        recorded = marker.record(args.revision, [str(s) for s in planned], results)
        marker.write_marker(args.project_dir, recorded, args.marker)
    except (OSError, ValueError, KeyError, TypeError, marker.MarkerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    pending = ", ".join(recorded.pending) or "none"
    print(f"tag {args.marker} -> {args.revision}; stacks to retry next run: {pending}")
    return 0


def _add_deploy_marker(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path | None
) -> None:
    plan = commands.add_parser(
        "deploy-plan",
        help="the stacks a deploy must run: changed since the last deploy, and its failures",
        description="Print a GitHub Actions matrix of the stacks to deploy: those whose render or\n"
        "config changed since the revision the marker tag (--marker) points at, plus the stacks\n"
        "that tag lists as not deployed; every stack when the tag does not exist or with --all.\n"
        "The deploy workflow runs it; `deploy-record` moves the tag afterwards.",
        epilog="exit codes: 0 success; 2 the tag is not a deploy marker, or a revision cannot be read",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("--marker", default="deployed/main", help="the marker tag (default: deployed/main)")
    plan.add_argument("--all", action="store_true", help="every stack, whatever the tag says")
    plan.add_argument("--plan-out", type=Path, help="write {stacks, base, retried} as JSON to this file")
    plan.add_argument("--batch-size", type=int, default=10, help="stacks per batch (default: 10)")
    plan.add_argument("--max-jobs", type=int, default=256, help="most batches (default: 256)")
    plan.add_argument("--workers", type=int, help="parallel render processes (default: one per core)")
    plan.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)
    record = commands.add_parser(
        "deploy-record",
        help="move the deploy marker tag to the deployed revision, listing the stacks to retry",
        description="Create or move the annotated marker tag (--marker) to --revision; its message\n"
        "lists the stacks of --plan (deploy-plan --plan-out) that have no `succeeded` in the\n"
        "`up --results` files under --results: the next deploy-plan retries them. Push the tag\n"
        "yourself (git push --force origin refs/tags/deployed/main).",
        epilog="exit codes: 0 success; 2 unreadable plan or results, or the tag cannot be written",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    record.add_argument("--revision", required=True, help="the commit the run deployed")
    record.add_argument("--plan", type=Path, required=True, help="the deploy-plan --plan-out file")
    record.add_argument("--results", type=Path, required=True, help="folder of `up --results` JSON files")
    record.add_argument("--marker", default="deployed/main", help="the marker tag (default: deployed/main)")
    record.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)


def _guest_kubeconfig(args: argparse.Namespace) -> int:
    """``guest-kubeconfig``: exit 0 when every existing cluster's context was written, 1 when one
    could not be read, 2 for an invalid selection."""
    from stacks.commands.deploy.guest_access import fetch, write_private
    from stacks.loading.stack_list import StackNameError, discover

    try:
        known = discover(args.project_dir)
    except StackNameError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    unknown = [name for name in args.stack if name not in known]
    if unknown:
        print(f"error: no stack {', '.join(unknown)} in {args.project_dir}", file=sys.stderr)
        return EXIT_INVALID
    found = fetch(args.project_dir, args.stack)
    write_private(args.out, found.text())
    for problem in found.problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"wrote {len(found.contexts)} context(s) to {args.out}: {', '.join(found.contexts) or 'none'}")
    for stack, clusters in sorted(found.missing.items()):
        print(f"stack {stack}: not created yet (no admin kubeconfig Secret): {', '.join(clusters)}")
    return EXIT_FAILED if found.problems else 0


def _add_guest_kubeconfig(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path | None
) -> None:
    guest = commands.add_parser(
        "guest-kubeconfig",
        help="write the admin contexts of the stacks' GPU Kubernetes clusters, for pulumi up",
        description="Read each GPU Kubernetes cluster's admin kubeconfig Secret with the stack's own\n"
        "credential (the one `up` writes with) and write it to OUT (mode 600) as the context\n"
        "<platform.context or namespace>/<cluster> that the cluster's provider uses. Add OUT at the\n"
        "END of KUBECONFIG for `pulumi up` (hikube-gpu up does this itself), then delete it.\n"
        "Previews never need it: give them read-only contexts (deploy/rbac/guest-preview-readonly.yaml).",
        epilog="exit codes: 0 success; 1 a cluster's kubeconfig could not be read; 2 invalid selection",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    guest.add_argument("--stack", "-s", action="append", required=True, help="a stack (repeatable)")
    guest.add_argument("--out", type=Path, required=True, help="the kubeconfig file to write")
    guest.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)


def _cache(args: argparse.Namespace) -> int:
    """``cache``: exit 0 on success, 2 when the cache is off or the stacks cannot be read."""
    from stacks.commands.diff.compare import ProgressPrinter, warm
    from stacks.commands.diff.render_cache import CACHE_ENV, location, open_cache
    from stacks.commands.diff.revision import RevisionError
    from stacks.commands.interrupt import Interrupted, interruptible

    folder = location()
    if args.action == "path":
        print(folder if folder is not None else f"off (${CACHE_ENV})")
        return 0
    cache = open_cache(folder)
    if cache is None:
        print(f"error: the render cache is off or cannot be opened (${CACHE_ENV})", file=sys.stderr)
        return EXIT_INVALID
    try:
        with interruptible():
            done = warm(args.project_dir, cache, workers=args.workers, progress=ProgressPrinter())
    except Interrupted as stop:
        print(f"error: stopped by {stop}", file=sys.stderr)
        return stop.exit_code
    except RevisionError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    dropped = cache.keep_only_used() if args.prune else 0
    cache.close()
    print(
        f"{done.cached} render(s) found in the cache, {done.rendered} rendered; "
        f"{dropped} unused entr{'y' if dropped == 1 else 'ies'} dropped; cache: {folder}",
        file=sys.stderr,
    )
    return 0


def _add_cache(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path | None
) -> None:
    cache = commands.add_parser(
        "cache",
        help="fill the render cache of diff and changed with every stack's render, or print where it is",
        description="warm: render every stack and example of the working tree (HEAD's commit) into the\n"
        "render cache that diff and changed read, as main's workflow does for pull requests; with\n"
        "--prune, then drop every entry this run did not use. path: print the cache's folder\n"
        "($HIKUBE_GPU_RENDER_CACHE, default ~/.cache/hikube-gpu/renders; off: no cache).",
        epilog="exit codes: 0 success; 2 the cache is off, or the stacks cannot be read",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache.add_argument("action", choices=("warm", "path"))
    cache.add_argument("--prune", action="store_true", help="warm: keep only the entries this run used")
    cache.add_argument("--workers", type=int, help="parallel render processes (default: one per core)")
    cache.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)


OPERATOR_MARKER = ".hikube-gpu-operator"
"""File ``operator`` writes into its folder; it only replaces the YAML of folders that have it."""


def _stack_contexts(project_dir: Path, stacks: list[str]) -> tuple[dict[str, StackContexts], list[str]]:
    """Each stack's ``hikube-gpu:platform.context`` and its GPU clusters' contexts, and the
    problems that keep a stack from the operator: a kubeconfig stored in the stack would be
    used instead of its Secret's."""
    from stacks.commands.operator.manifests import StackContexts
    from stacks.loading.stack_file import StackFileError, load_stack_file

    contexts: dict[str, StackContexts] = {}
    problems = []
    for name in stacks:
        try:
            config = load_stack_file(project_dir, name).config
        except StackFileError as error:
            problems.append(f"stack {name!r}: {error}")
            continue
        for key in ("hikube-gpu:kubeconfig", "kubernetes:kubeconfig"):
            if key in config:
                problems.append(
                    f"stack {name!r} sets {key}: the operator hands each stack its own kubeconfig "
                    f"Secret; remove it (pulumi config rm {key} --stack {name})"
                )
        platform = _json_map(config, "hikube-gpu:platform")
        clusters = _json_map(config, "hikube-gpu:clusters")
        context, namespace = platform.get("context"), platform.get("namespace")
        contexts[name] = StackContexts.of(
            context if isinstance(context, str) else None,
            namespace if isinstance(namespace, str) else None,
            sorted(clusters),
        )
    return contexts, problems


def _json_map(config: dict[str, str], key: str) -> dict[str, Any]:
    """A map-valued key of a stack's config as the CLI hands it over (JSON text), else empty:
    the program reports a value of another type."""
    try:
        value = json.loads(config.get(key, "{}"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _operator(args: argparse.Namespace) -> int:
    """``operator``: write the Pulumi Kubernetes Operator objects; exit 2 for a foreign --out, bad
    settings or a stack the operator cannot run."""
    import yaml

    from stacks.commands.operator.manifests import (
        OperatorSettings,
        credentials_text,
        manifests,
        settings_problems,
        workspace_image,
    )
    from stacks.loading.stack_list import StackNameError, discover

    out: Path = args.out
    version = (args.project_dir / ".pulumi-version").read_text(encoding="utf-8").strip()
    settings = OperatorSettings(
        repo_url=args.repo_url,
        image=workspace_image(version),
        branch=args.branch,
        namespace=args.namespace,
        secret=args.secret,
        directory=args.dir,
        git_secret=args.git_secret,
        resync_seconds=args.resync_seconds,
    )
    problems = settings_problems(settings)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / OPERATOR_MARKER).exists())):
        problems.append(f"{out} is not empty and not an earlier operator render; choose another --out")
    try:
        stacks = discover(args.project_dir)
    except StackNameError as error:
        problems.append(str(error))
        stacks = []
    contexts, stack_problems = _stack_contexts(args.project_dir, stacks)
    for problem in problems + stack_problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems or stack_problems:
        return EXIT_INVALID
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    (out / OPERATOR_MARKER).write_text("written by hikube-gpu operator\n", encoding="utf-8")
    files = manifests(settings, stacks)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: 1,000 Stacks in a second
    for name, documents in files.items():
        text = yaml.dump_all(documents, Dumper=dumper, sort_keys=False)
        (out / name).write_text(text, encoding="utf-8")
    (out / "credentials.txt").write_text(credentials_text(settings, contexts), encoding="utf-8")
    print(f"wrote {len(stacks)} Stack(s), the GitRepository and the ServiceAccount to {out}")
    print(f"create each stack's kubeconfig Secret in {settings.namespace}: see {out / 'credentials.txt'}")
    return 0


def _add_operator(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path | None
) -> None:
    operator = commands.add_parser(
        "operator",
        help="write Pulumi Kubernetes Operator objects: one Stack per stack",
        description="Write the objects that let the Pulumi Kubernetes Operator (v2.9) run every stack from\n"
        "a management cluster: a Flux GitRepository for --repo-url, a ServiceAccount bound to\n"
        "system:auth-delegator, and one pulumi.com/v1 Stack per stack (never the examples), whose\n"
        "workspace runs pulumi/pulumi:<.pulumi-version>-nonroot with KUBECONFIG pointing at the\n"
        "stack's own kubeconfig Secret (credentials.txt lists them). The backend Secret (--secret)\n"
        "and the kubeconfig Secrets are created by hand. Apply OUT with kubectl or Flux.",
        epilog="exit codes: 0 success; 2 OUT is a foreign folder, --repo-url holds credentials or is\n"
        "not http(s)/ssh, --resync-seconds is below 60, a stack name is invalid, or a stack stores\n"
        "a kubeconfig",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    operator.add_argument("--out", type=Path, required=True, help="output folder")
    operator.add_argument(
        "--repo-url", required=True, help="the Git repository the operator pulls (no credentials)"
    )
    operator.add_argument("--git-secret", help="Secret with the repository's credentials (Flux secretRef)")
    operator.add_argument("--branch", default="main", help="branch to deploy (default: main)")
    operator.add_argument("--namespace", default="pulumi-stacks", help="namespace of the objects")
    operator.add_argument("--secret", default="hikube-gpu-pulumi", help="Secret with the backend credentials")
    operator.add_argument("--dir", default="", help="the project's folder inside the repository")
    operator.add_argument(
        "--resync-seconds",
        type=int,
        default=3600,
        help="run up again this long after a success, correcting drift (default: 3600; 0: new commits only)",
    )
    operator.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path | None
) -> dict[str, Command]:
    """Add the fleet commands; their runners by name (``project_dir`` None: found by ``main``)."""
    config = commands.add_parser(
        "config",
        help="print a stack's config merged with its customer defaults",
        description="Print every value of the stack's config after merging its customer defaults file\n"
        "(hikube-gpu:defaults) and Pulumi.yaml's defaults; --show-origin says where each value comes\n"
        "from. Secrets print as [secret]: secure: values (in lists too) and every value of a field\n"
        "that is always secret (kubeconfigs, sshKeys, cloudInit), from whichever file it comes.",
        epilog="exit codes: 0 success; 2 unreadable stack or defaults file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
    config.add_argument("--show-origin", action="store_true", help="name the file each value comes from")
    config.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)
    changed = commands.add_parser(
        "changed",
        help="list the stacks whose render or config changed since a git revision",
        description="List the stacks (not the examples) whose rendered objects or config, customer\n"
        "defaults included, differ between BASE and the working tree, as `diff` computes them. Only\n"
        "stacks whose stack or defaults file changed are rendered, unless the code changed.\n"
        "--format matrix prints a GitHub Actions matrix: batches of --batch-size stacks, never more\n"
        "than --max-jobs (256) batches.",
        epilog="exit codes: 0 success (whether or not a stack changed); 2 the comparison could not be made",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    changed.add_argument("--base", required=True, help="git revision to compare with (e.g. origin/main)")
    changed.add_argument("--format", choices=("text", "json", "matrix"), default="text", help="output format")
    changed.add_argument("--batch-size", type=int, default=10, help="stacks per batch (--format matrix)")
    changed.add_argument("--max-jobs", type=int, default=256, help="most batches (--format matrix)")
    changed.add_argument("--workers", type=int, help="parallel render processes (default: one per core)")
    changed.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)
    _add_up(commands, project_dir)
    _add_deploy_marker(commands, project_dir)
    _add_guest_kubeconfig(commands, project_dir)
    _add_operator(commands, project_dir)
    _add_cache(commands, project_dir)
    return {
        "config": _config,
        "changed": _changed,
        "up": _up,
        "deploy-plan": _deploy_plan,
        "deploy-record": _deploy_record,
        "guest-kubeconfig": _guest_kubeconfig,
        "operator": _operator,
        "cache": _cache,
    }
