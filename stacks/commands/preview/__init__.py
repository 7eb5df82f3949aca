"""The offline preview: a stack's run recorded without a cluster (the plan or Pulumi's mock
runtime), its report and its rendered files.
"""
