#!/usr/bin/env bash
# Print a kubeconfig for the preview ServiceAccount of deploy/rbac/*-preview-readonly.yaml.
# Run it with an administrator's kubeconfig for the same API server: the cluster entry
# (server, CA) is copied from your current context, the token read from the token Secret.
# It only reads (kubectl get, kubectl config view).
#
#   usage: deploy/rbac/mint-kubeconfig.sh NAMESPACE [SERVICEACCOUNT] [CONTEXT] > readonly.kubeconfig
#   NAMESPACE       where the ServiceAccount is (a tenant namespace, or hikube-gpu-preview)
#   SERVICEACCOUNT  default hikube-gpu-preview (its token Secret is <name>-token)
#   CONTEXT         the context name, default hikube-gpu-preview. If the stack sets
#                   hikube-gpu:platform.context, use that name.
set -euo pipefail

usage="usage: $0 NAMESPACE [SERVICEACCOUNT] [CONTEXT]"
namespace=${1:?$usage}
account=${2:-hikube-gpu-preview}
context=${3:-hikube-gpu-preview}

token=$(kubectl --namespace "$namespace" get secret "$account-token" -o 'jsonpath={.data.token}' | base64 -d)
if [ -z "$token" ]; then
  echo "error: Secret $namespace/$account-token has no token (yet): apply the RBAC file first" >&2
  exit 1
fi
server=$(kubectl config view --minify --raw -o 'jsonpath={.clusters[0].cluster.server}')
ca=$(kubectl config view --minify --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}')
if [ -z "$server" ]; then
  echo "error: the current kubectl context has no server" >&2
  exit 1
fi

cat <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: $context
    cluster:
      server: $server
${ca:+      certificate-authority-data: $ca
}contexts:
  - name: $context
    context:
      cluster: $context
      user: $context
      namespace: $namespace
current-context: $context
users:
  - name: $context
    user:
      token: $token
KUBECONFIG
