"""Operating an installation: backups and their restore (``backup``), content key status and
rotation (``keys``), the scheduled backup job (``tasks``) and the operator's commands
(``commands``, run as ``python -m omnipostr``). Plain Python: nothing here imports Reflex."""
