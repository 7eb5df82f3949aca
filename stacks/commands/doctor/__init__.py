"""``hikube-gpu doctor``: a read-only check of the live platform behind a stack.

``command`` parses the arguments and prints the report, ``access`` finds the credentials,
``reader`` is the only module that talks to the API server (GET, plus the read-only access
reviews), ``facts`` fetches what the checks need, and the checks (``version``, ``tenant``,
``platform``) are pure functions over the fetched objects.
"""
