"""The program package, in four folders that data flows through one way: ``loading`` (the
config as Pulumi hands it over), ``validation``, ``program`` (the plan and its registration,
what ``pulumi up`` runs) and ``commands`` (``hikube-gpu``, run only outside ``pulumi up``)."""
