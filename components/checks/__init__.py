"""What makes a component's args valid, checked by the component itself (one source per check).

Each ``check_*`` returns ``Issue``s with property paths relative to the component's args
(``nodeGroups.l40s.instanceType``); a component raises ``pulumi.InputPropertiesError`` for
the errors, and the stack rules (``stacks/*rules.py``) prefix the paths with the object's
config path (``hikube-gpu:clusters.ml.``) and report the warnings too.
"""

from components.checks.issues import Issue, raise_for_errors

__all__ = ["Issue", "raise_for_errors"]
