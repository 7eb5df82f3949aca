"""Resolution: what a validated model means, as pure functions that the checks and the builders
both call (sizes, instance types, placement, GPU sharing and the MIG strategy, derived names).
Resolvers import only the catalog and the models: neither a check nor a builder."""
