"""The cluster a Kubernetes provider of this program will reach, found the way it finds it.

pulumi-kubernetes (v4.32.0, ``provider/pkg/provider/provider.go`` 873–902) builds its client
from the ``kubeconfig`` input when it is not empty (a path if one exists there, else the
kubeconfig's text: ``util.go`` 135–169), else from client-go's default loading rules with the
``context`` input as override, falling back on the in-cluster ServiceAccount. This module
follows client-go v0.36.1 (the version pulumi-kubernetes v4.32.0 builds with), reading only:
``tools/clientcmd/loader.go`` (``NewDefaultClientConfigLoadingRules`` 160–180, ``Load``
197–281, ``Migrate`` 286–327, ``LoadFromFile``/``Load`` 397–449, ``deduplicate`` 670–681),
``merge.go`` 30–107, ``api/v1/conversion.go`` 28–44 (a name twice in one file is an error),
``merged_client_builder.go`` 96–129 (in-cluster only for an empty or default config),
``client_config.go`` (``DefaultClientConfig`` 40–57, ``DirectClientConfig.ClientConfig``
172–219, ``ConfirmUsable`` 431–460, ``getContextName`` 464–473, ``getContext`` 498–517,
``getCluster`` 557–601, in-cluster 606–673), ``validation.go`` 34–36, 74–85, 227–261,
``rest/config.go`` 543–574 and ``util/homedir/homedir.go``. Nothing is written (client-go's
``Migrate`` copies ``~/.kube/.kubeconfig`` to ``~/.kube/config`` first; this reads the source).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

TOKEN_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
"""The ServiceAccount token client-go's in-cluster config needs (``client_config.go`` 669)."""


class KubeconfigError(Exception):
    """The kubeconfig cannot be loaded: the provider would fail the same way (cluster unreachable)."""


@dataclass(frozen=True)
class Environment:
    """What client-go reads from the process: ``KUBECONFIG``, the home folder, the in-cluster
    variables and token file, ``KUBERNETES_MASTER`` (its legacy default server)."""

    kubeconfig: str = ""
    home: str = ""
    service_host: str = ""
    service_port: str = ""
    token_file: Path = TOKEN_FILE
    master: str = ""

    @classmethod
    def current(cls, env: Mapping[str, str] | None = None) -> Environment:
        env = os.environ if env is None else env
        return cls(
            kubeconfig=env.get("KUBECONFIG", ""),
            home=env.get("HOME", ""),  # homedir.HomeDir() outside Windows
            service_host=env.get("KUBERNETES_SERVICE_HOST", ""),
            service_port=env.get("KUBERNETES_SERVICE_PORT", ""),
            master=env.get("KUBERNETES_MASTER", ""),
        )


@dataclass(frozen=True)
class Kubeconfig:
    """A loaded (merged) kubeconfig: entries by name, as client-go's ``api.Config`` holds them."""

    current_context: str = ""
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reached:
    """The cluster a provider reaches: its API server, which context of which file said so."""

    server: str
    origin: str
    """``context admin@acme of KUBECONFIG=/a:/b``, ``the in-cluster ServiceAccount``…"""
    kubeconfig: Kubeconfig
    """The loaded kubeconfig (every context, e.g. to look for a cluster's own)."""


def parse(text: str, source: str) -> Kubeconfig:
    """One kubeconfig's text (client-go ``Load``: an empty text is an empty config; a name
    twice in one list is an error)."""
    if not text:
        return Kubeconfig()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:  # never the text: a kubeconfig holds credentials
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise KubeconfigError(f"{source} is not YAML{where}") from None
    if document is None:
        return Kubeconfig()
    if not isinstance(document, dict):
        raise KubeconfigError(f"{source} is not a kubeconfig (a mapping)")
    entries = {}
    for key, inner in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
        named: dict[str, dict[str, Any]] = {}
        for item in document.get(key) or []:
            if not isinstance(item, dict):
                raise KubeconfigError(f"{source}: {key} holds something other than named entries")
            name = str(item.get("name") or "")
            if name in named:
                raise KubeconfigError(f'{source}: duplicate name "{name}" in {key}')
            value = item.get(inner) or {}
            named[name] = dict(value) if isinstance(value, dict) else {}
        entries[key] = named
    return Kubeconfig(
        str(document.get("current-context") or ""), entries["contexts"], entries["clusters"], entries["users"]
    )


def precedence(env: Environment) -> list[str]:
    """``NewDefaultClientConfigLoadingRules``: the ``KUBECONFIG`` list (split on ``:``, each path
    once), or ``~/.kube/config`` when ``KUBECONFIG`` is empty."""
    if env.kubeconfig:
        return list(dict.fromkeys(env.kubeconfig.split(os.pathsep)))
    return [home_file(env)]


def home_file(env: Environment) -> str:
    return os.path.join(env.home, ".kube", "config")


def load(env: Environment) -> tuple[Kubeconfig, str]:
    """client-go's ``Load``: every file of the precedence merged, the first to set an entry's
    name or the current context winning; missing files skipped. Returns the config and how to
    name where it came from (``KUBECONFIG=…`` or ``~/.kube/config``)."""
    files = precedence(env)
    legacy = os.path.join(env.home, ".kube", ".kubeconfig")  # Migrate: read it where client-go copies it
    loaded: list[Kubeconfig] = []
    for name in files:
        if not name:
            continue
        source = name
        if name == home_file(env) and not os.path.exists(name) and os.path.isfile(legacy):
            source = legacy
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as error:
            raise KubeconfigError(f'error loading config file "{name}": {error}') from None
        loaded.append(parse(text, name))
    merged = Kubeconfig(
        current_context=next((k.current_context for k in loaded if k.current_context), ""),
        contexts=_first_wins(k.contexts for k in loaded),
        clusters=_first_wins(k.clusters for k in loaded),
        users=_first_wins(k.users for k in loaded),
    )
    origin = f"KUBECONFIG={env.kubeconfig}" if env.kubeconfig else "~/.kube/config"
    return merged, origin


def _first_wins(maps: Any) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for entries in maps:
        for name, value in entries.items():
            merged.setdefault(name, value)
    return merged


class _EmptyConfig(KubeconfigError):
    """client-go's ``ErrEmptyConfig``: the only thing wrong is that no cluster is named."""


def direct(config: Kubeconfig, context: str | None, origin: str) -> str:
    """``DirectClientConfig.ClientConfig`` with only a context override: the server, or
    ``KubeconfigError`` (``_EmptyConfig`` when nothing names a cluster)."""
    name = context or config.current_context
    if name and name not in config.contexts:
        if context:  # getContext: a context given as override must exist
            raise KubeconfigError(f'context "{name}" does not exist in {origin}')
        raise KubeconfigError(f"context was not found for specified context: {name} (in {origin})")
    cluster_name = str(config.contexts.get(name, {}).get("cluster") or "")
    cluster = config.clusters.get(cluster_name, {})
    if not cluster:  # validateClusterInfo: an empty cluster is ErrEmptyCluster, alone: ErrEmptyConfig
        raise _EmptyConfig(f"{origin} names no cluster" + (f" (context {name})" if name else ""))
    server = str(cluster.get("server") or "")
    if not server:
        label = f'cluster "{cluster_name}"' if cluster_name else "the default cluster"
        raise KubeconfigError(f"no server found for {label} in {origin}")
    return server


def _is_default(server: str, cluster: Mapping[str, Any], env: Environment) -> bool:
    """``IsDefaultConfig``: the merged config equals client-go's legacy default, a plain-HTTP
    server at ``KUBERNETES_MASTER`` or ``http://localhost:8080`` with nothing else set."""
    default = env.master or "http://localhost:8080"
    plain = urlsplit(server).scheme.lower() != "https"
    return (
        plain
        and server == default
        and not cluster.get("proxy-url")
        and not cluster.get("disable-compression")
    )


def in_cluster(env: Environment) -> str | None:
    """``inClusterClientConfig.Possible`` and ``rest.InClusterConfig``'s host, or None."""
    if not (env.service_host and env.service_port and env.token_file.is_file()):
        return None
    host = f"[{env.service_host}]" if ":" in env.service_host else env.service_host
    return f"https://{host}:{env.service_port}"


def reached(kubeconfig: str, context: str | None, env: Environment) -> Reached:
    """The API server a provider with these ``kubeconfig`` and ``context`` inputs reaches in
    ``env``; ``KubeconfigError`` when it would have none (it would fail: cluster unreachable)."""
    if kubeconfig:
        path = _expand_home(kubeconfig)
        if os.path.exists(path):
            origin = f"the kubeconfig file {kubeconfig}"
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise KubeconfigError(f"cannot read {origin}: {error}") from None
        else:
            origin, text = "the stack's kubeconfig", kubeconfig
        config = parse(text, origin)
        server = direct(config, context, origin)
        return Reached(
            normalized_host(server), _with_context(origin, context or config.current_context), config
        )
    config, origin = load(env)
    try:
        server = direct(config, context, origin)
    except _EmptyConfig as empty:
        fallback = in_cluster(env)
        if fallback is None:
            raise KubeconfigError(f"{empty}, and this is not a pod with a ServiceAccount") from None
        return Reached(fallback, "the in-cluster ServiceAccount", config)
    name = context or config.current_context
    cluster = config.clusters.get(str(config.contexts.get(name, {}).get("cluster") or ""), {})
    if _is_default(server, cluster, env) and (fallback := in_cluster(env)) is not None:
        return Reached(fallback, "the in-cluster ServiceAccount", config)
    return Reached(normalized_host(server), _with_context(origin, name), config)


def _with_context(origin: str, context: str) -> str:
    return f"context {context} of {origin}" if context else origin


def _expand_home(value: str) -> str:
    """pulumi-kubernetes ``parseKubeconfigString`` (``util.go`` 142–154): ``~`` is the user's
    home from the user database (``user.Current``), not ``HOME``."""
    if value == "~" or value.startswith("~/"):
        return pwd.getpwuid(os.getuid()).pw_dir + value[1:]
    return value


def normalized_host(server: str) -> str:
    """``DirectClientConfig.ClientConfig`` 215–219: a server URL with a path loses its query
    and fragment."""
    parts = urlsplit(server)
    if parts.scheme and parts.netloc and len(parts.path) > 1:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return server


def same_server(a: str, b: str) -> bool:
    """Whether two API server URLs name the same server: scheme and host case-insensitive, the
    default port of the scheme implied, a trailing ``/`` ignored."""
    return _key(a) == _key(b)


def _key(server: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(server.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")
