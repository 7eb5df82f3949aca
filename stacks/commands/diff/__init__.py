"""The manifest diff of a change: which stacks it affects, their renders at both revisions
(workers, cache) and the differences a reviewer must see.
"""
