"""The ``hikube-gpu`` command line and what only it runs: preview, render, diff, the fleet
commands, doctor, verify, deploy, operator. Nothing outside this folder imports from it.
"""
