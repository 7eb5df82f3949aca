"""``hikube-gpu verify``: after ``pulumi up``, check that a stack's GPUs are usable.

``expect`` derives what the stack should look like from the plan and builders the program
uses; ``facts`` reads the tenant's API and each cluster's own API through the doctor's reader
(every answer untrusted); the checks (``vms``, ``cluster``, ``operator``, ``platform``) are
functions of both; ``smoke`` runs ``--smoke``'s pods; ``run`` and ``command`` tie them together.
"""
